//! `string_enum!`: the documented names of a CIM vocabulary as a Rust enum that still
//! accepts (and re-emits unchanged) names it does not know, via an `Other(String)` arm.

/// Declares `enum Name { Variant, ..., Other(String) }` serialized as the JSON string
/// given for each variant. Unknown strings land in `Other` and serialize back verbatim,
/// so round trips are exact. Build values with `From<&str>` so known names never end up
/// in `Other`.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A name not in the documented list, kept verbatim.
            Other(String),
        }

        impl $name {
            /// Every documented name, in declaration order.
            pub const KNOWN: &'static [&'static str] = &[$($text),+];

            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )+
                    Self::Other(other) => other.as_str(),
                }
            }

            /// False for `Other(_)`.
            pub fn is_known(&self) -> bool {
                !matches!(self, Self::Other(_))
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $( $text => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(text: String) -> Self {
                match Self::from(text.as_str()) {
                    Self::Other(_) => Self::Other(text),
                    known => known,
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(text))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                Ok(Self::from(String::deserialize(deserializer)?))
            }
        }
    };
}

pub(crate) use string_enum;

#[cfg(test)]
mod tests {
    string_enum! {
        /// Test vocabulary.
        pub enum Colour {
            Red = "RED",
            DarkBlue = "DARK_BLUE",
        }
    }

    #[test]
    fn known_and_unknown_names_round_trip() {
        let known: Colour = serde_json::from_str("\"DARK_BLUE\"").unwrap();
        assert_eq!(known, Colour::DarkBlue);
        assert!(known.is_known());
        let unknown: Colour = serde_json::from_str("\"MAUVE\"").unwrap();
        assert_eq!(unknown, Colour::Other("MAUVE".into()));
        assert!(!unknown.is_known());
        assert_eq!(serde_json::to_string(&unknown).unwrap(), "\"MAUVE\"");
        assert_eq!(Colour::from(String::from("RED")), Colour::Red);
        assert_eq!(Colour::KNOWN, &["RED", "DARK_BLUE"]);
    }

    #[test]
    fn non_strings_are_refused() {
        assert!(serde_json::from_str::<Colour>("3").is_err());
    }
}
