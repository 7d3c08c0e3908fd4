//! The end of a long-running operation, as every operation records it.
//! (ARM's polling protocol itself is the API's: `api/lro.rs`.)

use georep_core::arm::ErrorDetail;

use crate::control::SharedApp;

/// Records the end of an operation.
pub fn finish_operation(app: &SharedApp, id: Option<&str>, error: Option<String>) {
    let Some(id) = id else { return };
    let Ok(Some(mut op)) = app.store.operation(id) else {
        return;
    };
    match error {
        None => op.succeed(),
        Some(message) => op.fail(ErrorDetail::new("OperationFailed", message)),
    }
    if let Err(error) = app.store.put_operation(&op) {
        tracing::error!(%error, "could not record the operation's end");
    }
}
