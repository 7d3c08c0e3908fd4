//! Azure Resource Manager wire types of `Microsoft.Cache/redis`, its
//! `linkedServers`, long-running operations, metrics and errors.
//!
//! Field names follow the public REST specification. Fields this project adds
//! beside ARM's are marked as extensions; clients that don't know them ignore them.

use serde::{Deserialize, Serialize};

mod cache;
mod cloud;
mod firewall;
mod link;
mod metrics;
mod operation;

pub use cache::*;
pub use cloud::*;
pub use firewall::*;
pub use link::*;
pub use metrics::*;
pub use operation::*;

/// A list in ARM's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResult<T> {
    /// The items.
    pub value: Vec<T>,
    /// Where the next page is; we never page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

impl<T> ListResult<T> {
    /// A single-page list.
    pub fn of(value: Vec<T>) -> Self {
        ListResult {
            value,
            next_link: None,
        }
    }
}

/// ARM's error body: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The error.
    pub error: ErrorDetail,
}

/// One ARM error, with optional nested details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// A stable, machine-readable code.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// What the error is about, such as a field or resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The individual problems, when there are several.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
}

impl ErrorDetail {
    /// An error with a code and a message.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorDetail {
            code: code.into(),
            message: message.into(),
            target: None,
            details: vec![],
        }
    }
}

/// A subscription, as `GET /subscriptions` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// `/subscriptions/{subscriptionId}`.
    pub id: String,
    /// The GUID.
    pub subscription_id: String,
    /// A human name.
    pub display_name: String,
    /// `Enabled`.
    pub state: String,
    /// The tenant's GUID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ServerRole, Sku};
    use serde_json::json;

    #[test]
    fn reads_a_cache_as_azure_returns_it() {
        let body = json!({
            "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/Redis/a",
            "name": "a", "type": "Microsoft.Cache/Redis", "location": "West Europe",
            "tags": {},
            "properties": {
                "sku": {"name": "Premium", "family": "P", "capacity": 1},
                "redisVersion": "6.0.14", "provisioningState": "Succeeded",
                "hostName": "a.redis.cache.windows.net", "port": 6379, "sslPort": 6380,
                "enableNonSslPort": false, "replicasPerMaster": 1,
                "redisConfiguration": {"rdb-backup-enabled": "true", "maxmemory-reserved": "30"},
                "linkedServers": [{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/Redis/a/linkedServers/b"}],
                "instances": [{"sslPort": 15000, "isMaster": true, "isPrimary": true}],
                "someFutureField": {"x": 1}
            }
        });
        let resource: RedisResource = serde_json::from_value(body).unwrap();
        let cache = resource.to_cache(vec![]).unwrap();
        assert_eq!(cache.sku, Sku::premium(1));
        assert!(cache.persistence.rdb);
        assert_eq!(cache.replicas_per_primary, 1);
        assert_eq!(cache.link.unwrap().peer.name, "b");
    }

    #[test]
    fn error_body_has_arms_shape() {
        let body = ErrorResponse {
            error: ErrorDetail::new("NotFound", "gone"),
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"error": {"code": "NotFound", "message": "gone"}})
        );
    }

    #[test]
    fn linked_server_create_body_matches_the_sdk() {
        let body = json!({"properties": {
            "linkedRedisCacheId": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/Redis/b",
            "linkedRedisCacheLocation": "East US",
            "serverRole": "Secondary"
        }});
        let params: LinkedServerCreateParameters = serde_json::from_value(body).unwrap();
        assert_eq!(params.properties.server_role, ServerRole::Secondary);
    }

    #[test]
    fn a_field_of_the_wrong_type_is_an_error() {
        let body = json!({"properties": {
            "linkedRedisCacheId": 7, "linkedRedisCacheLocation": "x", "serverRole": "Secondary"
        }});
        assert!(serde_json::from_value::<LinkedServerCreateParameters>(body).is_err());
    }

    #[test]
    fn progress_fraction_is_bounded() {
        assert_eq!(
            SyncProgress {
                bytes_read: 5,
                bytes_total: 0
            }
            .fraction(),
            0.0
        );
        assert_eq!(
            SyncProgress {
                bytes_read: 50,
                bytes_total: 100
            }
            .fraction(),
            0.5
        );
        assert_eq!(
            SyncProgress {
                bytes_read: 150,
                bytes_total: 100
            }
            .fraction(),
            1.0
        );
    }

    #[test]
    fn status_resources_carry_every_key_as_azure_does() {
        let status = OperationStatus {
            id: "/x".into(),
            name: "x".into(),
            status: OperationState::InProgress,
            start_time: None,
            end_time: None,
            percent_complete: None,
            error: None,
            properties: None,
        };
        assert_eq!(
            serde_json::to_value(&status).unwrap(),
            json!({"id": "/x", "name": "x", "status": "InProgress", "startTime": null,
                   "endTime": null, "percentComplete": null, "error": null, "properties": null})
        );
    }

    #[test]
    fn azure_configuration_defaults_fill_only_what_is_unset() {
        let config = RedisConfiguration {
            maxclients: Some("100".into()),
            ..RedisConfiguration::default()
        }
        .with_azure_defaults(Sku::premium(1));
        assert_eq!(config.maxclients.as_deref(), Some("100"));
        assert_eq!(config.maxmemory_reserved.as_deref(), Some("642"));
        assert_eq!(
            config.maxfragmentationmemory_reserved.as_deref(),
            Some("642")
        );
        assert_eq!(config.maxmemory_delta.as_deref(), Some("642"));
        let p1 = RedisConfiguration::default().with_azure_defaults(Sku::premium(1));
        assert_eq!(p1.maxclients.as_deref(), Some("7500"));
        let p2 = RedisConfiguration::default().with_azure_defaults(Sku::premium(2));
        assert_eq!(p2.maxclients.as_deref(), Some("15000"));
    }

    #[test]
    fn cloud_metadata_has_the_shape_the_az_cli_reads() {
        let doc = CloudMetadata::new(
            "https://127.0.0.1:8443",
            "http://127.0.0.1:8080",
            &["https://management.core.windows.net/"],
        );
        let value = serde_json::to_value(&doc).unwrap();
        assert_eq!(value["resourceManager"], "https://127.0.0.1:8443/");
        assert_eq!(
            value["authentication"]["audiences"][0],
            "https://management.core.windows.net/"
        );
        assert_eq!(value["authentication"]["identityProvider"], "AAD");
        assert!(value["authentication"]["loginEndpoint"].is_string());
        assert!(value["suffixes"].is_object());
    }

    #[test]
    fn a_cache_reports_azures_settings_and_null_keys() {
        let settings = serde_json::to_value(AzureSettings::default()).unwrap();
        assert_eq!(
            settings,
            json!({"updateChannel": "Stable", "zonalAllocationPolicy": "Automatic",
                   "disableAccessKeyAuthentication": false, "tenantSettings": {}})
        );
    }

    #[test]
    fn only_the_old_api_versions_unlink_synchronously() {
        assert!(unlink_is_synchronous("2021-06-01"));
        assert!(!unlink_is_synchronous("2024-11-01"));
        assert!(!unlink_is_synchronous(crate::names::OLDEST_API_VERSION));
    }
}
