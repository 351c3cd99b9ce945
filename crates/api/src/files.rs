//! Files sent with a compose file (`files` in the start, validate and compile requests): by
//! path relative to the compose file, each file's bytes as base64 on the wire.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::Error;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// Serde for `BTreeMap<path, bytes>` as `{"path": "<base64>"}`.
pub mod base64_map {
    use super::*;

    pub fn serialize<S: Serializer>(
        files: &BTreeMap<String, Vec<u8>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let encoded: BTreeMap<&str, String> = files
            .iter()
            .map(|(path, bytes)| (path.as_str(), STANDARD.encode(bytes)))
            .collect();
        encoded.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<String, Vec<u8>>, D::Error> {
        let encoded = BTreeMap::<String, String>::deserialize(deserializer)?;
        encoded
            .into_iter()
            .map(|(path, text)| match STANDARD.decode(text.as_bytes()) {
                Ok(bytes) => Ok((path, bytes)),
                Err(e) => Err(D::Error::custom(format!(
                    "files: `{path}` is not base64 ({e})"
                ))),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Carrier {
        #[serde(with = "base64_map")]
        files: BTreeMap<String, Vec<u8>>,
    }

    #[test]
    fn files_travel_as_base64_and_bad_base64_names_the_file() {
        let carrier = Carrier {
            files: BTreeMap::from([("conf/a.conf".to_string(), vec![0, 159, 146, 150])]),
        };
        let json = serde_json::to_string(&carrier).unwrap();
        assert_eq!(json, r#"{"files":{"conf/a.conf":"AJ+Slg=="}}"#);
        assert_eq!(serde_json::from_str::<Carrier>(&json).unwrap(), carrier);
        let error = serde_json::from_str::<Carrier>(r#"{"files":{"x.txt":"%%"}}"#).unwrap_err();
        assert!(
            error.to_string().contains("`x.txt` is not base64"),
            "{error}"
        );
    }
}
