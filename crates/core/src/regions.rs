//! The Azure regions, with the coordinates the region map places them at.

use std::sync::OnceLock;

use serde::Deserialize;

/// One physical Azure region.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    /// The ARM location name, e.g. `westeurope`.
    pub name: String,
    /// The human name, e.g. `West Europe`.
    pub display_name: String,
    /// The geography, e.g. `Europe`.
    pub geography_group: String,
    /// Latitude in degrees.
    pub latitude: f64,
    /// Longitude in degrees.
    pub longitude: f64,
    /// The region's disaster-recovery pair, if any.
    pub paired_region: Vec<String>,
}

const TABLE: &str = include_str!("../data/azure-regions.json");

/// Every Azure region, in the table's order.
pub fn all() -> &'static [Region] {
    static REGIONS: OnceLock<Vec<Region>> = OnceLock::new();
    // The table is compiled in and checked by a test, so it always parses.
    REGIONS.get_or_init(|| serde_json::from_str(TABLE).unwrap_or_default())
}

/// Looks a region up by ARM name or display name, ignoring case and spaces.
pub fn find(location: &str) -> Option<&'static Region> {
    let wanted = normalize(location);
    all()
        .iter()
        .find(|r| r.name == wanted || normalize(&r.display_name) == wanted)
}

/// The ARM form of a location: lower case without spaces ("West Europe" → "westeurope").
pub fn normalize(location: &str) -> String {
    location
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The display name of a location, or the location itself when unknown.
pub fn display_name(location: &str) -> String {
    find(location).map_or_else(|| location.to_owned(), |r| r.display_name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_with_every_region() {
        assert_eq!(all().len(), 59);
    }

    #[test]
    fn finds_by_name_or_display_name() {
        let by_name = find("westeurope").unwrap();
        assert_eq!(by_name.display_name, "West Europe");
        assert_eq!(find("West Europe"), Some(by_name));
        assert!(find("atlantis").is_none());
    }
}
