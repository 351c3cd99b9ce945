//! The REST API end to end: the real axum server, the real kube::Client, the fake (or a real)
//! cluster. One module per surface; the typed client where the JSON shape is not the point,
//! raw JSON where it is (the compat envelope, problem documents, the event stream).

mod compat;
mod events;
mod faults;
mod lifecycle;
mod no_cluster;
mod ownership;
mod validation;
mod volumes;
