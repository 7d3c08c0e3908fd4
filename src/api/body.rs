//! How bodies and answers cross between Rust and JSON: the browser's
//! `JSON.stringify` and `JSON.parse` do the text, serde-wasm-bindgen the
//! values, so the wasm carries no JSON writer or parser of its own.

use gloo_net::http::Response;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};

use super::ApiError;

/// `body` as JSON, written by the browser's `JSON.stringify` (so the wasm
/// carries no JSON writer either): the same text as serde_json's, `None`
/// as `null` and maps as objects.
pub(super) fn json<B: Serialize>(body: &B) -> Result<String, ApiError> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let value = body
        .serialize(&serializer)
        .map_err(|e| ApiError::Decode(e.to_string()))?;
    js_sys::JSON::stringify(&value)
        .map(String::from)
        .map_err(|_| ApiError::Decode("not JSON".to_owned()))
}

/// A response's body as the browser's `JSON.parse` reads it.
pub(super) async fn decode(response: Response) -> Result<JsValue, ApiError> {
    let text = response
        .text()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))?;
    // Long-running operations may answer 202 with no body; let `T = ()`
    // and `Option<_>` callers accept that.
    let text = if text.trim().is_empty() {
        "null"
    } else {
        &text
    };
    parse(text).map_err(ApiError::Decode)
}

/// Reads a parsed answer as a `T`.
pub(super) fn read<T: DeserializeOwned>(value: JsValue) -> Result<T, ApiError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| ApiError::Decode(e.to_string()))
}

/// Reads JSON `text` as a `T`: the browser's `JSON.parse`, then serde over
/// the parsed value, so the wasm carries no JSON parser of its own (see
/// README's console size notes).
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_wasm_bindgen::from_value(parse(text)?).map_err(|e| e.to_string())
}

fn parse(text: &str) -> Result<JsValue, String> {
    js_sys::JSON::parse(text).map_err(|e| {
        e.dyn_ref::<js_sys::Error>()
            .map_or_else(|| "not JSON".to_owned(), |e| e.message().into())
    })
}

pub(super) async fn error_from(response: Response) -> ApiError {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    match from_json::<georep_core::arm::ErrorResponse>(&text) {
        Ok(body) => ApiError::Arm {
            status,
            code: body.error.code,
            message: body.error.message,
        },
        Err(_) => ApiError::Arm {
            status,
            code: format!("Http{status}"),
            message: format!("{} {}", status, response.status_text()),
        },
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use crate::api::extensions::LinkBody;
    use crate::api::resources::{link_body, EmptyBody};
    use crate::features::drills::wire::{DrillRequest, FaultRequest};
    use crate::model::CacheEntry;
    use georep_core::arm::{ExportParameters, ListResult, RedisResource, RedisUpdateParameters};
    use georep_core::live::TimelineEntry;
    use georep_core::model::ServerRole;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// A cache as Azure returns it, with a field the console doesn't know,
    /// a map, nulls, and numbers of several kinds.
    const CACHE: &str = r#"{
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/Redis/a",
        "name": "a", "type": "Microsoft.Cache/Redis", "location": "West Europe",
        "tags": {"team": "x"},
        "properties": {
            "sku": {"name": "Premium", "family": "P", "capacity": 1},
            "redisVersion": "6.0.14", "provisioningState": "Succeeded",
            "hostName": "a.redis.cache.windows.net", "port": 6379, "sslPort": 6380,
            "enableNonSslPort": false, "replicasPerMaster": 1, "accessKeys": null,
            "redisConfiguration": {"rdb-backup-enabled": "true", "maxmemory-reserved": "30"},
            "linkedServers": [{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/Redis/a/linkedServers/b"}],
            "instances": [{"sslPort": 15000, "isMaster": true, "isPrimary": true}],
            "someFutureField": {"x": 1.5}
        }
    }"#;

    #[wasm_bindgen_test]
    fn answers_read_as_serde_json_reads_them() {
        let ours: RedisResource = from_json(CACHE).unwrap();
        let theirs: RedisResource = serde_json::from_str(CACHE).unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(ours.properties.linked_servers.len(), 1);

        let timeline = r#"{"value": [{"id": 9007199254740991, "time": "2026-12-01T10:00:00Z",
            "kind": "Promoted", "message": "m", "primary": "p", "secondary": "s"}]}"#;
        let ours: ListResult<TimelineEntry> = from_json(timeline).unwrap();
        let theirs: ListResult<TimelineEntry> = serde_json::from_str(timeline).unwrap();
        assert_eq!(ours.value, theirs.value);
        assert_eq!(ours.value[0].id, 9_007_199_254_740_991);
    }

    #[wasm_bindgen_test]
    fn bodies_are_written_as_serde_json_writes_them() {
        use crate::features::drills::wire::{DrillKind, FaultKind};
        use georep_core::arm::{RedisConfiguration, RedisUpdateProperties};
        use georep_core::model::Sku;

        fn same<B: Serialize>(body: &B) {
            assert_eq!(json(body).unwrap(), serde_json::to_string(body).unwrap());
        }
        let cache: RedisResource = from_json(CACHE).unwrap();
        same(&link_body(
            &CacheEntry::new(cache, Vec::new(), Vec::new())
                .unwrap()
                .cache,
            ServerRole::Secondary,
        ));
        same(&EmptyBody {});
        same(&LinkBody {
            link: "a/linkedServers/b",
        });
        same(&RedisUpdateParameters {
            tags: Some([("team".to_owned(), "x".to_owned())].into()),
            properties: Some(RedisUpdateProperties {
                sku: Some(Sku::premium(2)),
                redis_configuration: Some(RedisConfiguration {
                    rdb_backup_enabled: Some("true".to_owned()),
                    ..Default::default()
                }),
                enable_non_ssl_port: Some(false),
                ..Default::default()
            }),
        });
        same(&RedisUpdateParameters::default());
        same(&ExportParameters {
            prefix: "p".to_owned(),
            container: "c".to_owned(),
            format: None,
        });
        same(&DrillRequest {
            link: "l".to_owned(),
            kind: DrillKind::Forced,
            seconds: 5,
            failback: true,
        });
        same(&FaultRequest::new("l", FaultKind::KillNode));
    }

    #[wasm_bindgen_test]
    fn what_is_not_json_or_not_the_type_is_an_error() {
        assert!(from_json::<RedisResource>("<html>").is_err());
        assert!(from_json::<RedisResource>(r#"{"name": 1}"#).is_err());
        assert_eq!(from_json::<Option<u32>>("null"), Ok(None));
    }
}
