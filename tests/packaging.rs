//! The packaging files agree with each other and with the build: the Debian package
//! metadata (Cargo.toml `[package.metadata.deb]`), the systemd unit, the maintainer
//! scripts, the configuration template and the Containerfile name the same binary, user,
//! configuration file and data directory, and every file they ship exists. (The package is
//! built and installed by tests/deb_install.sh; no container engine runs here, so the
//! Containerfile is only checked, not built.)

use std::path::{Path, PathBuf};

const BIN: &str = "/usr/bin/switchboard";
const CONFIG: &str = "/etc/switchboard/switchboard.toml";
const DATA: &str = "/var/lib/switchboard";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `key=value` lines of the systemd unit.
fn unit_value(key: &str) -> String {
    read("packaging/switchboard.service")
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("the unit has no {key}="))
        .to_string()
}

#[test]
fn the_debian_package_ships_existing_files_to_the_paths_the_unit_uses() {
    let manifest: toml::Value = toml::from_str(&read("Cargo.toml")).unwrap();
    let deb = &manifest["package"]["metadata"]["deb"];
    let mut installed = Vec::new();
    for asset in deb["assets"].as_array().expect("assets") {
        let source = asset[0].as_str().unwrap();
        let dest = asset[1].as_str().unwrap();
        let dest = if dest.ends_with('/') {
            format!(
                "/{dest}{}",
                Path::new(source).file_name().unwrap().to_string_lossy()
            )
        } else {
            format!("/{dest}")
        };
        if let Some(bin) = source.strip_prefix("target/release/") {
            let bins = manifest["bin"].as_array().unwrap();
            assert!(
                bins.iter().any(|b| b["name"].as_str() == Some(bin)),
                "{bin} is not a [[bin]] of Cargo.toml"
            );
        } else {
            assert!(root().join(source).is_file(), "{source} does not exist");
        }
        installed.push(dest);
    }
    assert!(installed.iter().any(|d| d == BIN), "{installed:?}");
    assert!(installed.iter().any(|d| d == CONFIG), "{installed:?}");
    assert!(
        installed
            .iter()
            .any(|d| d == "/lib/systemd/system/switchboard.service"),
        "{installed:?}"
    );
    let conf_files: Vec<&str> = deb["conf-files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(conf_files, [CONFIG]);
    let scripts = deb["maintainer-scripts"].as_str().unwrap();
    for script in ["postinst", "prerm", "postrm"] {
        let path = root().join(scripts).join(script);
        let mode = std::os::unix::fs::PermissionsExt::mode(&path.metadata().unwrap().permissions());
        assert!(mode & 0o111 != 0, "{script} is not executable");
    }

    // The unit runs that binary with that config, as the user postinst creates, and may
    // write the data directory the template names.
    assert_eq!(
        unit_value("ExecStart"),
        format!("{BIN} serve --config {CONFIG}")
    );
    assert_eq!(unit_value("User"), "switchboard");
    // `systemctl reload` is the SIGHUP that reloads the TLS certificate (tests/tls.rs).
    assert_eq!(unit_value("ExecReload"), "/bin/kill -HUP $MAINPID");
    assert_eq!(unit_value("ReadWritePaths"), DATA);
    let postinst = read("packaging/deb/postinst");
    assert!(postinst.contains("adduser --system --group --home /var/lib/switchboard"));
    assert!(postinst.contains(&format!("-m 0750 {DATA}")));
    let template: toml::Value = toml::from_str(&read("packaging/switchboard.toml")).unwrap();
    assert_eq!(template["data_dir"].as_str(), Some(DATA));
    assert_eq!(
        template["demo"].as_bool(),
        Some(false),
        "no demo credentials"
    );
}

#[test]
fn the_containerfile_builds_the_release_binary_and_copies_existing_files() {
    let file = read("packaging/Containerfile");
    assert!(
        file.contains("RUN cargo build --release --locked --bin switchboard"),
        "the image is built from the release binary"
    );
    let mut copies = 0;
    for line in file.lines().filter(|l| l.starts_with("COPY ")) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[1] {
            "--from=build" => {
                assert_eq!(words[2], "/src/target/release/switchboard");
                assert_eq!(words[3], BIN);
            }
            "." => assert_eq!(words[2], "."),
            source => {
                assert!(root().join(source).exists(), "{source} does not exist");
                if source == "packaging/switchboard.toml" {
                    assert_eq!(words[2], CONFIG);
                }
            }
        }
        copies += 1;
    }
    assert_eq!(copies, 3, "sources, binary, configuration");
    assert!(file.contains(&format!("ENTRYPOINT [\"{BIN}\"]")));
    assert!(file.contains(&format!("CMD [\"serve\", \"--config\", \"{CONFIG}\"]")));
    assert!(file.contains(&format!("VOLUME {DATA}")));
    // The build context leaves out build output and dependencies.
    let ignore = read(".dockerignore");
    for entry in ["target/", ".git/", "tests/e2e/node_modules/"] {
        assert!(
            ignore.lines().any(|l| l == entry),
            ".dockerignore lacks {entry}"
        );
    }
}
