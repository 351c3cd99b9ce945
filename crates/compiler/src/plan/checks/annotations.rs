//! A user's annotations (compose `labels:` of services, which the pod gets, and of volumes,
//! which their claims get): keys the API server accepts, none that mean something to
//! Kubernetes or Tycho (`container.apparmor.security.beta.kubernetes.io/web: unconfined` would
//! switch AppArmor off), and no more than the API server's 256 KiB per object.

use super::report::error;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::model::{Annotation, System};
use crate::names::{MAX_ANNOTATIONS_BYTES, check_qualified_name, reserved_key};
use crate::plan::claim::gets_claim;
use std::collections::BTreeMap;

pub(crate) fn check(system: &System, out: &mut Vec<Diagnostic>) {
    let pod: Vec<&Annotation> = system.services.iter().flat_map(|s| &s.labels).collect();
    keys(&pod, out);
    total_size(&pod, "the pod", out);
    for decl in &system.volumes {
        let claim: Vec<&Annotation> = decl.labels.iter().collect();
        keys(&claim, out);
        if gets_claim(decl, system) {
            total_size(&claim, &format!("the claim of volume `{}`", decl.name), out);
        }
    }
}

fn keys(annotations: &[&Annotation], out: &mut Vec<Diagnostic>) {
    for annotation in annotations {
        let key = &annotation.key;
        if let Err(why) = check_qualified_name(key) {
            error(
                out,
                codes::INVALID_ANNOTATION_KEY,
                format!("the label `{key}` {why}; Kubernetes refuses it as an annotation key"),
                &annotation.pos,
            );
        } else if let Some(why) = reserved_key(key) {
            error(
                out,
                codes::RESERVED_ANNOTATION_KEY,
                format!(
                    "the label `{key}` cannot be set: {why}; use a key under a domain of your own (e.g. `org.example/…`)"
                ),
                &annotation.pos,
            );
        }
    }
}

/// Keys and values of one object together, as the API server counts them (a key given twice
/// keeps its last value, as the object does); reported at the annotation that crosses the limit.
fn total_size(annotations: &[&Annotation], object: &str, out: &mut Vec<Diagnostic>) {
    let mut sizes: BTreeMap<&str, usize> = BTreeMap::new();
    let mut total = 0usize;
    for annotation in annotations {
        let size = annotation.key.len() + annotation.value.len();
        total += size;
        if let Some(previous) = sizes.insert(&annotation.key, size) {
            total -= previous;
        }
        if total > MAX_ANNOTATIONS_BYTES {
            error(
                out,
                codes::ANNOTATIONS_TOO_LARGE,
                format!(
                    "with `{}` the labels of {object} hold {total} bytes; Kubernetes allows {MAX_ANNOTATIONS_BYTES} (256 KiB) of annotations per object",
                    annotation.key
                ),
                &annotation.pos,
            );
            return;
        }
    }
}
