//! What comparing a link's two sides found: the answer of
//! `POST /x-georep/verify` and a drill report's last word.
//!
//! One shape for the data plane that compares, the store that keeps a
//! drill's report, the API that answers and the console that shows it.

use serde::{Deserialize, Serialize};

/// What comparing the geo-primary with the geo-secondary found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Verification {
    /// Same key counts in every database, and no compared key differs.
    pub consistent: bool,
    /// Keys on the geo-primary, every database and shard.
    pub keys_primary: u64,
    /// Keys on the geo-secondary.
    pub keys_secondary: u64,
    /// Whether only a sample of the keys was compared (large caches).
    pub sampled: bool,
    /// How many keys were compared value by value.
    pub compared: u64,
    /// Keys whose values differ or that one side lacks (a bounded list).
    pub mismatches: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_reads_and_writes_the_api_shape() {
        let found = Verification {
            consistent: false,
            keys_primary: 3,
            keys_secondary: 2,
            sampled: false,
            compared: 2,
            mismatches: vec!["k".to_owned()],
        };
        let json = serde_json::to_value(&found).unwrap();
        assert_eq!(json["keysPrimary"], 3);
        assert_eq!(json["mismatches"][0], "k");
        let back: Verification = serde_json::from_value(json).unwrap();
        assert_eq!(back, found);
        // Older reports may lack fields; they read as empty, not as errors.
        let old: Verification = serde_json::from_str(r#"{"consistent":true}"#).unwrap();
        assert!(old.consistent && old.mismatches.is_empty());
    }
}
