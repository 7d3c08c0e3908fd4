//! The HTTP API: ARM's `Microsoft.Cache/redis` routes, the async-operation
//! status resources, the `/x-georep/` extensions and, beside them, the
//! static console.
//!
//! Every handler returns `Result<_, ApiError>`; [`ApiError`]'s
//! `IntoResponse` is the only place errors become responses.

pub mod auth;
mod caches;
pub mod cloud;
mod drills;
mod error;
mod events;
mod extensions;
mod extract;
mod firewall;
mod links;
mod lro;
mod metrics;
mod normalize;
mod operations;
mod private_endpoints;
mod subscriptions;
mod timeline;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower::ServiceExt;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use extract::{ApiVersion, ArmJson, BaseUrl};
pub use normalize::canonical_path;

use crate::control::SharedApp;
use crate::identity::Identity;
use auth::{Auth, Token};
pub use cloud::Urls;

/// The prefix of the extensions ARM lacks.
pub const EXTENSIONS_PREFIX: &str = "/x-georep";

/// Whether a path belongs to the API (and so needs the token).
pub fn is_api_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower == "/subscriptions"
        || lower.starts_with("/subscriptions/")
        || lower == EXTENSIONS_PREFIX
        || lower.starts_with("/x-georep/")
}

/// What the router needs besides the app.
pub struct Options {
    /// The token every API request must carry.
    pub token: Token,
    /// A built console to serve, if any.
    pub static_dir: Option<PathBuf>,
    /// Browser origins allowed to call the API.
    pub allow_origins: Vec<String>,
    /// The managed identity whose tokens the API accepts and issues.
    pub identity: Arc<Identity>,
    /// Where the server listens, for the cloud metadata document.
    pub urls: Urls,
}

/// `router` as served on the listener at `base_url` (`http://addr:port`
/// or `https://addr:port`): the base of every URL a response carries, so a
/// client is sent back to the listener it came in on (never the request's
/// `Host`, which a client chooses).
pub fn at(router: Router, base_url: String) -> Router {
    router.layer(axum::Extension(BaseUrl(base_url)))
}

/// The whole HTTP surface.
pub fn router(app: SharedApp, options: Options) -> Router {
    const CACHE: &str = "/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Cache/redis/{cache}";
    let api = Router::new()
        .route("/subscriptions", get(subscriptions::list))
        .route("/subscriptions/{subscription}", get(subscriptions::get))
        .route(
            "/subscriptions/{subscription}/resourceGroups/{group}",
            axum::routing::delete(caches::delete_group),
        )
        .route(
            "/subscriptions/{subscription}/providers/Microsoft.Cache/redis",
            get(caches::list_by_subscription),
        )
        .route(
            "/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Cache/redis",
            get(caches::list_by_group),
        )
        .route(
            CACHE,
            get(caches::get)
                .put(caches::put)
                .patch(caches::update)
                .delete(caches::delete),
        )
        .route(&format!("{CACHE}/listKeys"), post(caches::list_keys))
        .route(&format!("{CACHE}/regenerateKey"), post(caches::regenerate_key))
        .route(&format!("{CACHE}/export"), post(caches::export))
        .route(&format!("{CACHE}/import"), post(caches::import))
        .route(&format!("{CACHE}/forceReboot"), post(caches::force_reboot))
        .route(&format!("{CACHE}/linkedServers"), get(links::list))
        .route(
            &format!("{CACHE}/linkedServers/{{child}}"),
            get(links::get).put(links::put).delete(links::delete),
        )
        .route(&format!("{CACHE}/firewallRules"), get(firewall::list))
        .route(
            &format!("{CACHE}/firewallRules/{{child}}"),
            get(firewall::get).put(firewall::put).delete(firewall::delete),
        )
        .route(
            &format!("{CACHE}/privateEndpointConnections"),
            get(private_endpoints::list),
        )
        .route(
            &format!("{CACHE}/privateEndpointConnections/{{child}}"),
            get(private_endpoints::get)
                .put(private_endpoints::put)
                .delete(private_endpoints::delete),
        )
        .route(
            "/subscriptions/{subscription}/providers/Microsoft.Cache/locations/{location}/asyncOperations/{operation}",
            get(operations::status),
        )
        .route(
            "/subscriptions/{subscription}/providers/Microsoft.Cache/locations/{location}/operationResults/{operation}",
            get(operations::result),
        )
        .route(
            &format!("{CACHE}/providers/Microsoft.Insights/metrics"),
            get(metrics::query),
        )
        .route("/x-georep/candidates", get(extensions::list_candidates))
        .route(extensions::CA_PATH, get(extensions::ca_certificate))
        .route(events::EVENTS_PATH, get(events::stream))
        .route("/x-georep/events/ticket", post(events::ticket))
        .route("/x-georep/timeline", get(timeline::list))
        .route("/x-georep/verify", post(extensions::verify))
        .route(
            "/x-georep/faults",
            post(extensions::inject_fault).get(extensions::list_faults),
        )
        .route("/x-georep/drills", post(drills::start).get(drills::list))
        .route("/x-georep/drills/{id}", get(drills::get))
        .route(cloud::METADATA_PATH, get(cloud::metadata))
        .route(cloud::IDENTITY_PATH, get(cloud::token))
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(app);

    let static_dir = options.static_dir;
    let mut router = api
        .fallback(move |request: Request| fallback(static_dir.clone(), request))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal("The server failed while handling the request.".into())
                .into_response()
        }))
        .layer(middleware::from_fn_with_state(
            Auth {
                token: options.token,
                identity: options.identity.clone(),
            },
            authenticate_api,
        ))
        .layer(axum::Extension(options.identity))
        .layer(axum::Extension(Arc::new(options.urls)));
    if !options.allow_origins.is_empty() {
        router = router.layer(cors(&options.allow_origins));
    }
    router.layer(middleware::from_fn(log_answer)).layer(
        // Log the method and path only: query strings and headers may carry secrets.
        TraceLayer::new_for_http()
            .make_span_with(|request: &Request| {
                let (method, path) = (request.method(), request.uri().path());
                // A read's span only at debug: formatting one per request
                // is CPU a loaded server lacks, and reads rarely log.
                if is_read(method) {
                    tracing::debug_span!("request", %method, %path)
                } else {
                    tracing::info_span!("request", %method, %path)
                }
            })
            .on_response(()),
    )
}

/// Logs each answer in the request's span: at debug for a read that
/// succeeded, since the console polls several a second and a loaded API
/// serves thousands (a line each cost the busy server CPU and buried the
/// start-up box); at info for changes and for failures.
async fn log_answer(request: Request, next: Next) -> Response {
    let read = is_read(request.method());
    // A failed read is logged at info outside its (debug) span: say which.
    let uri = read.then(|| request.uri().clone());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let status = response.status();
    let latency_ms = started.elapsed().as_millis() as u64;
    let failed = status.is_client_error() || status.is_server_error();
    match uri {
        Some(_) if !failed => tracing::debug!(%status, latency_ms, "answered"),
        Some(uri) => tracing::info!(path = uri.path(), %status, latency_ms, "answered a read"),
        None => tracing::info!(%status, latency_ms, "answered"),
    }
    response
}

fn is_read(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD)
}

/// Requires the token on API paths; the console's files and the local CA's
/// certificate are public, the event stream opened with a ticket checks the
/// ticket instead, and the managed-identity endpoint its header secret.
async fn authenticate_api(
    state: State<Auth>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if is_api_path(request.uri().path())
        && !events::carries_ticket(request.method(), request.uri())
        && request.uri().path() != cloud::IDENTITY_PATH
        && request.uri().path() != extensions::CA_PATH
    {
        auth::require_token(state, request, next).await
    } else {
        Ok(next.run(request).await)
    }
}

/// CORS for the configured origins only.
fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::PUT,
            Method::PATCH,
            Method::POST,
            Method::DELETE,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([
            HeaderName::from_static("azure-asyncoperation"),
            header::LOCATION,
        ])
        .max_age(Duration::from_secs(600))
}

/// Unknown API paths get ARM's 404; anything else is the console (with
/// `index.html` for client-side routes), when one is served.
async fn fallback(static_dir: Option<PathBuf>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    match static_dir {
        Some(dir) if !is_api_path(&path) => {
            let index = dir.join("index.html");
            let serve = ServeDir::new(dir).fallback(ServeFile::new(index));
            match serve.oneshot(request).await {
                Ok(response) => response.into_response(),
                Err(never) => match never {},
            }
        }
        _ => ApiError::NoSuchRoute(path).into_response(),
    }
}

/// A known path with the wrong verb.
async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}
