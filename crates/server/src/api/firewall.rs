//! Handlers of `…/redis/{cache}/firewallRules`.
//!
//! Rules are kept and reported (the failover checklist compares them); every
//! node listens on 127.0.0.1 only, so there is nothing to filter locally.

use std::net::Ipv4Addr;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use georep_core::arm::{
    FirewallRuleParameters, FirewallRuleProperties, FirewallRuleResource, ListResult,
};
use georep_core::model::FirewallRule;
use georep_core::{names, CacheId};

use super::extract::{CachePath, ChildPath};
use super::{ApiError, ApiVersion, ArmJson};
use crate::control::app::SharedApp;

const KIND: &str = "Microsoft.Cache/Redis/firewallRules";

fn resource(cache: &CacheId, rule: FirewallRule) -> FirewallRuleResource {
    FirewallRuleResource {
        id: format!("{cache}/firewallRules/{}", rule.name),
        name: format!("{}/{}", cache.name, rule.name),
        kind: KIND.to_owned(),
        properties: FirewallRuleProperties {
            start_ip: rule.start_ip,
            end_ip: rule.end_ip,
        },
    }
}

/// `GET …/firewallRules`.
pub async fn list(
    State(app): State<SharedApp>,
    _: ApiVersion,
    CachePath(id): CachePath,
) -> Result<Json<ListResult<FirewallRuleResource>>, ApiError> {
    app.cache(&id)?;
    let rules = app.store.firewall_rules(&id)?;
    Ok(Json(ListResult::of(
        rules.into_iter().map(|r| resource(&id, r)).collect(),
    )))
}

fn find(app: &SharedApp, id: &CacheId, name: &str) -> Result<Option<FirewallRule>, ApiError> {
    Ok(app
        .store
        .firewall_rules(id)?
        .into_iter()
        .find(|r| r.name.eq_ignore_ascii_case(name)))
}

/// `GET …/firewallRules/{rule}`.
pub async fn get(
    State(app): State<SharedApp>,
    _: ApiVersion,
    path: ChildPath,
) -> Result<Json<FirewallRuleResource>, ApiError> {
    names::validate_firewall_rule_name(&path.child)?;
    app.cache(&path.cache)?;
    let rule = find(&app, &path.cache, &path.child)?.ok_or_else(|| ApiError::NotFound {
        kind: KIND,
        name: path.child.clone(),
    })?;
    Ok(Json(resource(&path.cache, rule)))
}

/// `PUT …/firewallRules/{rule}`: 201 when new, 200 when replaced.
pub async fn put(
    State(app): State<SharedApp>,
    _: ApiVersion,
    path: ChildPath,
    ArmJson(params): ArmJson<FirewallRuleParameters>,
) -> Result<Response, ApiError> {
    names::validate_firewall_rule_name(&path.child)?;
    let ip = |field: &str, value: &str| {
        value
            .parse::<Ipv4Addr>()
            .map_err(|_| ApiError::invalid(field, format!("'{value}' is not an IPv4 address.")))
    };
    let start = ip("properties.startIP", &params.properties.start_ip)?;
    let end = ip("properties.endIP", &params.properties.end_ip)?;
    if start > end {
        return Err(ApiError::invalid(
            "properties.endIP",
            format!("The range ends ({end}) before it starts ({start})."),
        ));
    }
    let _changes = app.lock_changes().await;
    app.cache(&path.cache)?;
    let existed = find(&app, &path.cache, &path.child)?.is_some();
    let rule = FirewallRule {
        name: path.child.clone(),
        start_ip: start.to_string(),
        end_ip: end.to_string(),
    };
    app.store.put_firewall_rule(&path.cache, &rule)?;
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(resource(&path.cache, rule))).into_response())
}

/// `DELETE …/firewallRules/{rule}`: 200, or 204 when there was none.
pub async fn delete(
    State(app): State<SharedApp>,
    _: ApiVersion,
    path: ChildPath,
) -> Result<StatusCode, ApiError> {
    names::validate_firewall_rule_name(&path.child)?;
    let _changes = app.lock_changes().await;
    app.cache(&path.cache)?;
    Ok(
        if app.store.delete_firewall_rule(&path.cache, &path.child)? {
            StatusCode::OK
        } else {
            StatusCode::NO_CONTENT
        },
    )
}
