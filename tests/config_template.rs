//! packaging/switchboard.toml is a complete, loadable template of every option.

use switchboard::config::{CliOverrides, Config};

fn keys(prefix: &str, value: &toml::Value, out: &mut Vec<String>) {
    if let toml::Value::Table(t) = value {
        for (k, v) in t {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if v.is_table() {
                keys(&path, v, out);
            } else {
                out.push(path);
            }
        }
    }
}

#[test]
fn template_loads_and_names_every_option() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/switchboard.toml");
    let config = Config::load(
        Some(&path),
        Vec::<(String, String)>::new(),
        &CliOverrides::default(),
    )
    .expect("template loads");
    assert!(
        !config.demo_enabled(),
        "the packaging template keeps the demo site off"
    );

    let template: toml::Value = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut documented = Vec::new();
    keys("", &template, &mut documented);
    let mut all = Vec::new();
    keys(
        "",
        &toml::Value::try_from(Config::default()).unwrap(),
        &mut all,
    );
    all.push("demo".into()); // None by default, so absent from the serialized defaults
    for key in all {
        assert!(
            documented.contains(&key),
            "packaging/switchboard.toml lacks `{key}`"
        );
    }
}
