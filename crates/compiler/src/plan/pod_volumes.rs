//! The pod's volumes and each container's mounts of them: a claim (the system's own, an
//! `external:` one, or `pvc://CLAIM`), a host path, an anonymous scratch directory, and the
//! memory-backed `tmpfs:` and `shm_size:`.
//!
//! Containers of one pod share its volume list, so a volume is added once however many
//! services mount it; the claim objects themselves are built in [`super::claim`].

use super::claim::{HomeMount, claim_name};
use super::identity::Identity;
use super::stored::store_name;
use crate::model::{MountSource, Service, Store, StoredMount, System};
use crate::quantity::format_bytes;
use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, EmptyDirVolumeSource, HostPathVolumeSource, KeyToPath,
    PersistentVolumeClaimVolumeSource, SecretVolumeSource, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// The pod's volumes, each added once however many containers mount it.
#[derive(Default)]
pub(crate) struct PodVolumes {
    pub list: Vec<Volume>,
    /// The user's home, mounted in every container.
    pub home: Option<HomeMount>,
}

impl PodVolumes {
    pub fn with_home(home: Option<HomeMount>) -> Self {
        PodVolumes {
            list: Vec::new(),
            home,
        }
    }

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
                let decl = system.volumes.iter().find(|d| &d.name == volume);
                let claim_name = match decl {
                    Some(d) => d
                        .external
                        .clone()
                        .unwrap_or_else(|| claim_name(d, identity)),
                    // Refused by the loader (an undeclared volume); named as before for the plan.
                    None => format!("{volume}-{}", identity.guid),
                };
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
            MountSource::Stored(stored) => {
                let kind = match stored.store {
                    Store::ConfigMap => "files",
                    Store::Secret => "secrets",
                };
                volumes.add(volume_name(kind, &format!("{}-{i}", service.name)), |v| {
                    stored_volume(v, stored, identity)
                })
            }
        };
        let (read_only, sub_path) = match &mount.source {
            // Kubernetes mounts these read-only whatever the mount says; one file goes at the
            // target itself.
            MountSource::Stored(stored) => (
                Some(true),
                stored
                    .single_file
                    .then(|| stored.items.first().map(|(_, path)| path.clone()))
                    .flatten(),
            ),
            _ => (mount.read_only.then_some(true), mount.subpath.clone()),
        };
        mounts.push(VolumeMount {
            name,
            mount_path: mount.target.clone(),
            read_only,
            sub_path,
            ..Default::default()
        });
    }
    if let Some(home) = &volumes.home {
        let (claim, path) = (home.claim.clone(), home.path.clone());
        let name = volumes.add("home".into(), |v| {
            v.persistent_volume_claim = Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim,
                ..Default::default()
            });
        });
        mounts.push(VolumeMount {
            name,
            mount_path: path,
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

/// A volume of some keys of the system's ConfigMap or Secret, each at its path.
fn stored_volume(volume: &mut Volume, stored: &StoredMount, identity: &Identity) {
    let items: Vec<KeyToPath> = stored
        .items
        .iter()
        .map(|(key, path)| KeyToPath {
            key: key.clone(),
            path: path.clone(),
            mode: stored.mode,
        })
        .collect();
    let name = store_name(stored.store, identity);
    match stored.store {
        Store::ConfigMap => {
            volume.config_map = Some(ConfigMapVolumeSource {
                name,
                items: Some(items),
                ..Default::default()
            })
        }
        Store::Secret => {
            volume.secret = Some(SecretVolumeSource {
                secret_name: Some(name),
                items: Some(items),
                ..Default::default()
            })
        }
    }
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
