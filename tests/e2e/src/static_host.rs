//! A plain static file server, as any static host would be: `dist/` under a
//! path of its own (`/sub/`), on another origin than `georep-server`, with
//! no fallback to `index.html` for the console's routes.
//!
//! It runs on a thread of its own, so it answers even while a test blocks
//! its own runtime (starting or stopping the server does).

use std::net::TcpListener;
use std::path::Path;

use axum::Router;
use tower_http::services::ServeDir;

/// A running static host; it stops when the test process ends.
pub struct StaticHost {
    origin: String,
    path: String,
}

impl StaticHost {
    /// Serves `dir` at `http://127.0.0.1:PORT{path}/` on a free port.
    pub fn serve(dir: &Path, path: &str) -> StaticHost {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port for the static host");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let origin = format!(
            "http://{}",
            listener.local_addr().expect("the static host's address")
        );
        let app = Router::new().nest_service(path, ServeDir::new(dir));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("the static host's runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)
                    .expect("the static host's listener");
                axum::serve(listener, app)
                    .await
                    .expect("the static host serves");
            });
        });
        StaticHost {
            origin,
            path: path.to_owned(),
        }
    }

    /// `http://127.0.0.1:PORT`, what a browser sends as `Origin`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The console's address here: `http://127.0.0.1:PORT/sub/`.
    pub fn url(&self) -> String {
        format!("{}{}/", self.origin, self.path)
    }
}
