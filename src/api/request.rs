//! The one request core: every call is a [`Api::call`] (or a page of
//! [`Api::each_page`]) that answers with the body's bytes;
//! only the sync read into a `T` is per type (README, console size notes).

use gloo_net::http::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::body::{body_of, error_from, json, read};
use super::{Api, ApiError};
use georep_core::arm::ListResult;

impl Api {
    /// Every page of an ARM list.
    pub async fn get_all<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, ApiError> {
        let mut items = Vec::new();
        self.each_page(path, &mut |page| {
            let page: ListResult<T> = read(&page)?;
            items.extend(page.value);
            Ok(page.next_link)
        })
        .await?;
        Ok(items)
    }

    /// `GET` a JSON resource.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        read(&self.call(Method::GET, path, None).await?)
    }

    /// `PUT` a JSON body and read the resource back.
    pub async fn put<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        read(&self.call(Method::PUT, path, Some(json(body)?)).await?)
    }

    /// `PATCH` a JSON body and read the resource back.
    pub async fn patch<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        read(&self.call(Method::PATCH, path, Some(json(body)?)).await?)
    }

    /// `POST` a JSON body and read the answer.
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        read(&self.call(Method::POST, path, Some(json(body)?)).await?)
    }

    /// `DELETE` a resource; 200, 202 and 204 all count as accepted.
    pub async fn delete(&self, path: &str) -> Result<(), ApiError> {
        self.send(Method::DELETE, path, None).await.map(drop)
    }

    /// Pages through an ARM list from `path`: `take` reads each page and
    /// says where the next one is. Not generic, so the requests' code is
    /// compiled once for every item type (README, console size notes).
    pub(super) async fn each_page(
        &self,
        path: &str,
        take: &mut dyn FnMut(Vec<u8>) -> Result<Option<String>, ApiError>,
    ) -> Result<(), ApiError> {
        let mut next = Some(path.to_owned());
        while let Some(url) = next.take() {
            next = take(self.call(Method::GET, &url, None).await?)?;
        }
        Ok(())
    }

    /// One request with an optional JSON body, answered with its body's
    /// bytes.
    pub(super) async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<Vec<u8>, ApiError> {
        body_of(self.send(method, path, body).await?).await
    }

    pub(super) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<Response, ApiError> {
        let mut builder = RequestBuilder::new(&self.url(path))
            .method(method)
            .header("Accept", "application/json");
        if let Some(token) = &self.token {
            builder = builder.header("Authorization", &format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => builder
                .header("Content-Type", "application/json")
                .body(body),
            None => builder.build(),
        }
        .map_err(|e| ApiError::Decode(e.to_string()))?;
        let response = request
            .send()
            .await
            .map_err(|e| ApiError::Unreachable(e.to_string()))?;
        if response.ok() {
            Ok(response)
        } else {
            Err(error_from(response).await)
        }
    }
}
