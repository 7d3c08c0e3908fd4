//! Geo-primary endpoints.
