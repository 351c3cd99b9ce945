//! Ports inside the one pod: services share its network, so a container port can be bound by
//! one service only, and a Service port can be published once.

use super::report::error;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::model::{Pos, System};
use std::collections::BTreeMap;

/// Services share one pod network: a container port can be bound by one service only, and a
/// Service port can be published once.
pub(crate) fn port_clashes(system: &System, out: &mut Vec<Diagnostic>) {
    let mut container_ports: BTreeMap<(u16, &str), (&str, &Pos)> = BTreeMap::new();
    let mut service_ports: BTreeMap<(u16, &str), &Pos> = BTreeMap::new();
    for service in &system.services {
        for port in service.ports.iter().chain(&service.expose) {
            let key = (port.container, port.protocol.as_str());
            match container_ports.get(&key) {
                Some((owner, first)) if *owner != service.name => error(
                    out,
                    codes::PORT_CLASH,
                    format!(
                        "port {}/{} is already used by service `{owner}` (line {}); services share one pod network, so each port can be bound once",
                        port.container, port.protocol, first.line
                    ),
                    &port.pos,
                ),
                Some(_) => {}
                None => {
                    container_ports.insert(key, (&service.name, &port.pos));
                }
            }
        }
        for port in &service.ports {
            let published = port.published.unwrap_or(port.container);
            let key = (published, port.protocol.as_str());
            match service_ports.get(&key) {
                Some(first) if *first != &port.pos => error(
                    out,
                    codes::PORT_CLASH,
                    format!(
                        "port {published}/{} is published twice (first at line {})",
                        port.protocol, first.line
                    ),
                    &port.pos,
                ),
                _ => {
                    service_ports.insert(key, &port.pos);
                }
            }
        }
    }
}
