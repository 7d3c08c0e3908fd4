//! How bodies and answers cross between Rust and JSON: serde_json, over
//! the bytes as they came. Reading a thousand caches' list this way takes
//! half the CPU that the browser's `JSON.parse` and serde-wasm-bindgen
//! over the parsed value took, for 9.5 kB more of gzipped wasm (README,
//! Performance).

use gloo_net::http::Response;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::ApiError;

/// `body` as JSON.
pub(super) fn json<B: Serialize>(body: &B) -> Result<String, ApiError> {
    serde_json::to_string(body).map_err(|e| ApiError::Decode(e.to_string()))
}

/// A response's body, as the bytes that came: copied into the wasm as
/// they are, where decoding them to a JS string and encoding that again
/// took longer than reading the JSON (README, Performance).
pub(super) async fn body_of(response: Response) -> Result<Vec<u8>, ApiError> {
    let body = response
        .binary()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))?;
    // Long-running operations may answer 202 with no body; let `T = ()`
    // and `Option<_>` callers accept that.
    Ok(if body.trim_ascii().is_empty() {
        b"null".to_vec()
    } else {
        body
    })
}

/// Reads an answer as a `T`.
pub(super) fn read<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    from_json(body).map_err(ApiError::Decode)
}

/// Reads JSON as a `T`.
pub fn from_json<T: DeserializeOwned>(json: &[u8]) -> Result<T, String> {
    serde_json::from_slice(json).map_err(|e| e.to_string())
}

pub(super) async fn error_from(response: Response) -> ApiError {
    let status = response.status();
    let body = response.binary().await.unwrap_or_default();
    match from_json::<georep_core::arm::ErrorResponse>(&body) {
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
    use georep_core::arm::{ListResult, RedisResource};
    use georep_core::live::TimelineEntry;
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
    fn answers_are_read_from_their_bytes() {
        let cache: RedisResource = read(CACHE.as_bytes()).unwrap();
        assert_eq!(cache.name, "a");
        assert_eq!(cache.properties.ssl_port, 6380);
        assert_eq!(cache.properties.linked_servers.len(), 1);

        // Ids past 2^53 survive, as no JS number holds them on the way.
        let timeline = r#"{"value": [{"id": 9007199254740993, "time": "2026-12-01T10:00:00Z",
            "kind": "Promoted", "message": "m", "primary": "p", "secondary": "s"}]}"#;
        let page: ListResult<TimelineEntry> = read(timeline.as_bytes()).unwrap();
        assert_eq!(page.value[0].id, 9_007_199_254_740_993);
    }

    #[wasm_bindgen_test]
    fn what_is_not_json_or_not_the_type_is_an_error() {
        assert!(read::<RedisResource>(b"<html>").is_err());
        assert!(read::<RedisResource>(br#"{"name": 1}"#).is_err());
        assert!(from_json::<RedisResource>(b"").is_err());
        assert_eq!(read::<Option<u32>>(b"null").unwrap(), None);
    }
}
