//! Small, reusable pieces of the console's UI.

pub mod backend_banner;
pub mod header;
pub mod nav;
