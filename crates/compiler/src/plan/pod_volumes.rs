//! The pod's volumes and each container's mounts of them: a claim (the system's own, an
//! `external:` one, or `pvc://CLAIM`), a host path, an anonymous scratch directory, and the
//! memory-backed `tmpfs:` and `shm_size:`.
//!
//! Containers of one pod share its volume list, so a volume is added once however many
//! services mount it; the claim objects themselves are built in [`super::claim`].

use super::claim::claim_name;
use super::identity::Identity;
use crate::model::{MountSource, Service, System};
use crate::quantity::format_bytes;
use k8s_openapi::api::core::v1::{
    EmptyDirVolumeSource, HostPathVolumeSource, PersistentVolumeClaimVolumeSource, Volume,
    VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// The pod's volumes, each added once however many containers mount it.
#[derive(Default)]
pub(crate) struct PodVolumes {
    pub list: Vec<Volume>,
}

impl PodVolumes {
    fn add(&mut self, name: String, make: impl FnOnce(&mut Volume)) -> String {
        if !self.list.iter().any(|v| v.name == name) {
            let mut volume = Volume {
                name: name.clone(),
                ..Default::default()
            };
            make(&mut volume);
            self.list.push(volume);
        }
        name
    }
}

/// One service's mounts, adding the volumes they need to the pod's.
pub(crate) fn volume_mounts(
    service: &Service,
    system: &System,
    identity: &Identity,
    volumes: &mut PodVolumes,
) -> Vec<VolumeMount> {
    let mut mounts = Vec::new();
    for (i, mount) in service.volumes.iter().enumerate() {
        let name = match &mount.source {
            MountSource::Claim(claim) => volumes.add(volume_name("claim", claim), |v| {
                v.persistent_volume_claim = Some(PersistentVolumeClaimVolumeSource {
                    claim_name: claim.clone(),
                    ..Default::default()
                });
            }),
            MountSource::Named(volume) => {
                let claim_name = system
                    .volumes
                    .iter()
                    .find(|d| &d.name == volume)
                    .and_then(|d| d.external.clone())
                    .unwrap_or_else(|| claim_name(volume, identity));
                volumes.add(volume_name("volume", volume), |v| {
                    v.persistent_volume_claim = Some(PersistentVolumeClaimVolumeSource {
                        claim_name,
                        ..Default::default()
                    });
                })
            }
            MountSource::HostPath(path) => {
                volumes.add(volume_name("host", &format!("{}-{i}", service.name)), |v| {
                    v.host_path = Some(HostPathVolumeSource {
                        path: path.clone(),
                        ..Default::default()
                    });
                })
            }
            MountSource::Anonymous => volumes.add(
                volume_name("scratch", &format!("{}-{i}", service.name)),
                |v| {
                    v.empty_dir = Some(EmptyDirVolumeSource::default());
                },
            ),
        };
        mounts.push(VolumeMount {
            name,
            mount_path: mount.target.clone(),
            read_only: mount.read_only.then_some(true),
            sub_path: mount.subpath.clone(),
            ..Default::default()
        });
    }
    for (i, tmpfs) in service.tmpfs.iter().enumerate() {
        let name = volumes.add(
            volume_name("tmpfs", &format!("{}-{i}", service.name)),
            |v| {
                v.empty_dir = Some(memory_dir(tmpfs.size));
            },
        );
        mounts.push(VolumeMount {
            name,
            mount_path: tmpfs.target.clone(),
            ..Default::default()
        });
    }
    if let Some(shm) = &service.shm_size {
        let name = volumes.add(volume_name("shm", &service.name), |v| {
            v.empty_dir = Some(memory_dir(Some(shm.bytes)))
        });
        mounts.push(VolumeMount {
            name,
            mount_path: "/dev/shm".into(),
            ..Default::default()
        });
    }
    mounts
}

fn memory_dir(size: Option<u64>) -> EmptyDirVolumeSource {
    EmptyDirVolumeSource {
        medium: Some("Memory".into()),
        size_limit: size.map(|b| Quantity(format_bytes(b))),
    }
}

/// A pod volume name: `<kind>-<name>` as a DNS label, shortened to 63 characters.
fn volume_name(kind: &str, name: &str) -> String {
    let cleaned: String = format!("{kind}-{name}")
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(63)
        .collect();
    cleaned.trim_end_matches('-').to_string()
}
