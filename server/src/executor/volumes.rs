//! Claims that outlive their system, on Kubernetes: created at a start (fresh, or taken again
//! when it is a reused volume or the home), kept or removed by a delete, listed per user with
//! the systems that mount them, and removed by the sweep once the policy's `volume_ttl` has
//! passed since their system was deleted.
//!
//! What a claim outlives is its `tycho.io/claim` label, which the compiler writes (see
//! `tycho_compiler::labels::CLAIM_KIND`); the executor never guesses from names.

use super::kubernetes::{KubeExecutor, answer_lost, exec_error, stamp};
use super::{ExecError, Filter, VolumeChoice};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::jiff::Timestamp;
use kube::api::{DeleteParams, ListParams, ObjectList, Patch, PatchParams, PostParams};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use tycho_api::{Volume, VolumeKind, VolumeRef, VolumeUser};
use tycho_compiler::{AccessMode, Plan, labels};

/// How long before its expiry a kept claim carries a warning: a tenth of the TTL, at least a
/// day (never more than the TTL itself).
fn warning_window(ttl: Duration) -> Duration {
    (ttl / 10).max(Duration::from_secs(86_400)).min(ttl)
}

/// The systems that mount each claim, by claim name.
type Holders = HashMap<String, Vec<VolumeUser>>;

impl KubeExecutor {
    /// Refuses a start that would mount a ReadWriteOnce claim that lasts (the home, a reused
    /// volume) which another system of the user mounts, naming it; one still terminating is
    /// refused with that reason. The caller holds the user's start lock, so two starts of one
    /// user cannot both pass.
    pub(super) async fn check_claims_free(&self, plan: &Plan) -> Result<(), ExecError> {
        let single: Vec<(&str, VolumeKind, &str)> = plan
            .claims
            .iter()
            .filter(|c| {
                let modes = c.spec.as_ref().and_then(|s| s.access_modes.as_ref());
                modes.is_some_and(|m| m.iter().any(|m| AccessMode::single_system(m)))
            })
            .filter_map(|c| {
                let kind = kind_of(&c.metadata)?;
                let name = c.metadata.name.as_deref()?;
                (kind != VolumeKind::System).then(|| {
                    (
                        name,
                        kind,
                        annotation(&c.metadata, labels::ANNOTATION_VOLUME),
                    )
                })
            })
            .collect();
        if single.is_empty() {
            return Ok(());
        }
        let owner = super::owner_hash(&plan.username);
        let holders = self
            .claim_holders(&labels::user_selector(&plan.username), Some(&owner))
            .await?;
        for (name, kind, volume) in single {
            let what = match kind {
                VolumeKind::Home => format!("home `{name}`"),
                _ => format!("reused volume `{volume}` (claim `{name}`)"),
            };
            let others: Vec<&VolumeUser> = holders
                .get(name)
                .into_iter()
                .flatten()
                .filter(|h| h.guid != plan.guid)
                .collect();
            if let Some(h) = others.iter().find(|h| !h.terminating) {
                return Err(ExecError::Conflict(format!(
                    "your {what} is mounted by your system `{}` ({}); a ReadWriteOnce claim is mounted by one system at a time: delete that system first (its data stays)",
                    h.name, h.guid
                )));
            }
            if let Some(h) = others.first() {
                return Err(ExecError::Conflict(format!(
                    "your {what} is still in use by a system being deleted (`{}`, {}); try again in a moment",
                    h.name, h.guid
                )));
            }
        }
        Ok(())
    }

    /// Creates the plan's claims, none owned by the Deployment: a system's own fresh, the
    /// reused and home ones only when absent (then taken as they are, after checking the owner).
    pub(super) async fn create_claims(
        &self,
        pp: &PostParams,
        plan: &Plan,
    ) -> Result<(), ExecError> {
        for claim in &plan.claims {
            match kind_of(&claim.metadata) {
                Some(VolumeKind::Reuse | VolumeKind::Home) => {
                    self.take_lasting_claim(pp, claim, plan).await?
                }
                _ => {
                    self.create_stamped(pp, claim, plan).await?;
                }
            }
        }
        Ok(())
    }

    /// Creates a claim that lasts unless it exists; an existing one must be this user's, of the
    /// same kind, and not being deleted. A reused one is marked as this system's again.
    async fn take_lasting_claim(
        &self,
        pp: &PostParams,
        claim: &PersistentVolumeClaim,
        plan: &Plan,
    ) -> Result<(), ExecError> {
        let api = self.api::<PersistentVolumeClaim>();
        let name = claim.metadata.name.clone().unwrap_or_default();
        let kind = kind_of(&claim.metadata);
        let mut wanted = claim.clone();
        wanted.metadata.namespace = Some(self.namespace().to_string());
        stamp(&mut wanted.metadata, plan);
        let mut created = api.create(pp, &wanted).await;
        if let Err(e) = &created
            && answer_lost(e)
        {
            // Stored or not: asked again, an `AlreadyExists` is checked like any other below.
            created = api.create(pp, &wanted).await;
        }
        match created {
            Ok(_) => {
                tracing::info!(claim = %name, user = %plan.username, kind = ?kind, "created a claim that outlives its systems");
                Ok(())
            }
            Err(kube::Error::Api(s)) if s.code == 409 => {
                let existing = api.get(&name).await.map_err(exec_error)?;
                let owner = existing
                    .metadata
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(super::LABEL_OWNER_HASH));
                if owner != Some(&super::owner_hash(&plan.username))
                    || kind_of(&existing.metadata) != kind
                {
                    return Err(ExecError::Conflict(format!(
                        "a claim named `{name}` exists and is not yours to mount; ask the operator"
                    )));
                }
                if existing.metadata.deletion_timestamp.is_some() {
                    return Err(ExecError::Conflict(format!(
                        "your claim `{name}` is still being deleted; try again in a moment"
                    )));
                }
                if kind == Some(VolumeKind::Reuse) {
                    self.mark_reused(&name, plan).await?;
                }
                Ok(())
            }
            Err(e) => Err(exec_error(e)),
        }
    }

    /// A reused claim is this system's now: its GUID as the last system, no release time.
    async fn mark_reused(&self, name: &str, plan: &Plan) -> Result<(), ExecError> {
        let patch = serde_json::json!({
            "metadata": {
                "labels": {labels::LAST_SYSTEM: plan.guid},
                "annotations": {labels::ANNOTATION_RELEASED_AT: null},
            }
        });
        self.api::<PersistentVolumeClaim>()
            .patch(name, &patch_params(), &Patch::Merge(&patch))
            .await
            .map(|_| ())
            .map_err(exec_error)
    }

    /// The claims a delete of `guid` decides about: those with its GUID label (its own) and the
    /// reused ones it mounted last. Never the home.
    pub(super) async fn system_claims(
        &self,
        guid: &str,
    ) -> Result<Vec<PersistentVolumeClaim>, ExecError> {
        let api = self.api::<PersistentVolumeClaim>();
        let own = ListParams::default().labels(&labels::system_selector(guid));
        let reused = ListParams::default().labels(&format!(
            "{},{}={guid}",
            labels::all_systems_selector(),
            labels::LAST_SYSTEM
        ));
        let (own, reused) =
            futures::try_join!(api.list(&own), api.list(&reused)).map_err(exec_error)?;
        let mut claims = own.items;
        for claim in reused.items {
            if !claims
                .iter()
                .any(|c| c.metadata.name == claim.metadata.name)
            {
                claims.push(claim);
            }
        }
        claims.retain(|c| kind_of(&c.metadata) != Some(VolumeKind::Home));
        Ok(claims)
    }

    /// Keeps or deletes each claim as `choice` says; a kept one gets its release time (once),
    /// from which the policy's TTL counts. Claims a Deployment owns (made before claims outlived
    /// systems) go with it whatever the choice, so they are deleted and said to be.
    pub(super) async fn settle_claims(
        &self,
        claims: Vec<PersistentVolumeClaim>,
        choice: VolumeChoice,
    ) -> Result<(Vec<VolumeRef>, Vec<VolumeRef>), ExecError> {
        let api = self.api::<PersistentVolumeClaim>();
        let now = whole_seconds((self.clock)());
        let (mut kept, mut removed) = (Vec::new(), Vec::new());
        for claim in claims {
            let reference = volume_ref(&claim);
            let owned = claim
                .metadata
                .owner_references
                .as_ref()
                .is_some_and(|o| !o.is_empty());
            let delete = owned
                || match choice {
                    VolumeChoice::Keep => false,
                    VolumeChoice::Delete => true,
                    VolumeChoice::DeleteUnlessReused => reference.kind != VolumeKind::Reuse,
                };
            if delete {
                self.remove_claim(&reference.name).await?;
                removed.push(reference);
                continue;
            }
            let released = claim
                .metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(labels::ANNOTATION_RELEASED_AT));
            if !released && claim.metadata.deletion_timestamp.is_none() {
                let patch = serde_json::json!({
                    "metadata": {"annotations": {labels::ANNOTATION_RELEASED_AT: now.to_string()}}
                });
                match api
                    .patch(&reference.name, &patch_params(), &Patch::Merge(&patch))
                    .await
                {
                    Ok(_) => {}
                    Err(kube::Error::Api(s)) if s.code == 404 => continue,
                    Err(e) => return Err(exec_error(e)),
                }
            }
            kept.push(reference);
        }
        Ok((kept, removed))
    }

    /// Deletes one claim; one already gone is fine.
    pub(super) async fn remove_claim(&self, name: &str) -> Result<(), ExecError> {
        match self
            .api::<PersistentVolumeClaim>()
            .delete(name, &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(exec_error(e)),
        }
    }

    /// The claims of the filter's user (exactly, by the owner hash) or everyone's, each with
    /// the systems that mount it and when it expires; oldest first.
    pub(super) async fn list_volumes(&self, filter: &Filter) -> Result<Vec<Volume>, ExecError> {
        let owner = filter.username.as_deref().map(super::owner_hash);
        let systems = match &filter.username {
            Some(user) => labels::user_selector(user),
            None => labels::all_systems_selector(),
        };
        let (claims, holders) = self
            .claims_and_holders(filter.username.as_deref(), &systems, owner.as_deref())
            .await?;
        let now = (self.clock)();
        let mut volumes: Vec<Volume> = claims
            .items
            .iter()
            .filter(|c| owner.is_none() || owner_of(&c.metadata) == owner.as_deref())
            .filter_map(|c| self.volume_of(c, &holders, now))
            .filter(|v| filter.guid.as_ref().is_none_or(|g| &v.guid == g))
            .collect();
        volumes.sort_by(|a, b| (&a.created, &a.name).cmp(&(&b.created, &b.name)));
        Ok(volumes)
    }

    /// Removes kept claims whose TTL has passed since their system was deleted, unless a
    /// system mounts them again; logs each.
    pub(super) async fn expire_volumes(&self) -> Result<Vec<String>, ExecError> {
        let Some(ttl) = self.volume_ttl else {
            return Ok(Vec::new());
        };
        let all = labels::all_systems_selector();
        let (claims, holders) = self.claims_and_holders(None, &all, None).await?;
        let now = (self.clock)();
        let mut removed = Vec::new();
        for claim in &claims.items {
            let name = claim.metadata.name.clone().unwrap_or_default();
            let Some(expires) = expiry(&claim.metadata, ttl) else {
                continue;
            };
            if expires > now
                || holders.contains_key(&name)
                || claim.metadata.deletion_timestamp.is_some()
            {
                continue;
            }
            self.remove_claim(&name).await?;
            tracing::warn!(
                claim = %name,
                user = annotation(&claim.metadata, labels::ANNOTATION_USERNAME),
                released_at = annotation(&claim.metadata, labels::ANNOTATION_RELEASED_AT),
                ttl_seconds = ttl.as_secs(),
                "removed a kept volume past the policy's volume_ttl"
            );
            removed.push(name);
        }
        Ok(removed)
    }

    /// The systems (pods and Deployments the selector matches, of `owner` when given) that
    /// mount each claim. A system counts as terminating only when all of it is being deleted.
    /// The claims of `user` (everyone's: `None`) and, at the same time, which of the systems
    /// `systems` selects mount them.
    async fn claims_and_holders(
        &self,
        user: Option<&str>,
        systems: &str,
        owner: Option<&str>,
    ) -> Result<(ObjectList<PersistentVolumeClaim>, Holders), ExecError> {
        let lp = ListParams::default().labels(&labels::claim_selector(user));
        futures::try_join!(
            async {
                self.api::<PersistentVolumeClaim>()
                    .list(&lp)
                    .await
                    .map_err(exec_error)
            },
            self.claim_holders(systems, owner),
        )
    }

    async fn claim_holders(
        &self,
        selector: &str,
        owner: Option<&str>,
    ) -> Result<Holders, ExecError> {
        let lp = ListParams::default().labels(selector);
        let (pods_api, deployments_api) = (self.api::<Pod>(), self.api::<Deployment>());
        let (pods, deployments) = futures::try_join!(pods_api.list(&lp), deployments_api.list(&lp))
            .map_err(exec_error)?;
        let mut holders = Holders::new();
        let guid_of = |meta: &ObjectMeta| {
            meta.labels
                .as_ref()
                .and_then(|l| l.get(labels::GUID))
                .cloned()
                .unwrap_or_default()
        };
        // A pod whose Deployment is gone belongs to a system being deleted, although the
        // garbage collector may not have marked it yet.
        let standing: Vec<String> = deployments
            .items
            .iter()
            .filter(|d| d.metadata.deletion_timestamp.is_none())
            .map(|d| guid_of(&d.metadata))
            .collect();
        let specs = pods
            .items
            .iter()
            .map(|p| (&p.metadata, p.spec.as_ref()))
            .chain(deployments.items.iter().map(|d| {
                let template = d.spec.as_ref().and_then(|s| s.template.spec.as_ref());
                (&d.metadata, template)
            }));
        for (meta, spec) in specs {
            if owner.is_some() && owner_of(meta) != owner {
                continue;
            }
            let guid = guid_of(meta);
            let name = meta
                .labels
                .as_ref()
                .and_then(|l| l.get(labels::NAME))
                .cloned()
                .unwrap_or_default();
            let terminating = meta.deletion_timestamp.is_some() || !standing.contains(&guid);
            for claim in claim_names(spec) {
                let users = holders.entry(claim).or_default();
                match users.iter_mut().find(|u| u.guid == guid) {
                    Some(user) => user.terminating &= terminating,
                    None => users.push(VolumeUser {
                        guid: guid.clone(),
                        name: name.clone(),
                        terminating,
                    }),
                }
            }
        }
        Ok(holders)
    }

    /// The wire view of one claim; `None` for a claim Tycho did not label with its kind.
    fn volume_of(
        &self,
        claim: &PersistentVolumeClaim,
        holders: &Holders,
        now: Timestamp,
    ) -> Option<Volume> {
        let meta = &claim.metadata;
        let kind = kind_of(meta)?;
        let reference = volume_ref(claim);
        let label = |key: &str| {
            meta.labels
                .as_ref()
                .and_then(|l| l.get(key))
                .cloned()
                .unwrap_or_default()
        };
        let guid = match kind {
            VolumeKind::System => label(labels::GUID),
            VolumeKind::Reuse => label(labels::LAST_SYSTEM),
            VolumeKind::Home => String::new(),
        };
        let used_by = holders.get(&reference.name).cloned().unwrap_or_default();
        let spec = claim.spec.as_ref();
        let created = meta.creation_timestamp.as_ref().map(|t| t.0);
        let released_at = if used_by.is_empty() {
            annotation(meta, labels::ANNOTATION_RELEASED_AT).to_string()
        } else {
            String::new()
        };
        let expires = self
            .volume_ttl
            .filter(|_| used_by.is_empty())
            .and_then(|ttl| Some((expiry(meta, ttl)?, ttl)));
        let warning = match expires {
            Some((at, ttl))
                if at.as_second() - now.as_second() <= warning_window(ttl).as_secs() as i64 =>
            {
                format!(
                    "will be deleted at {at} ({} after its system was deleted, the operator's volume_ttl); copy out what you need before then",
                    period(ttl)
                )
            }
            _ => String::new(),
        };
        Some(Volume {
            name: reference.name.clone(),
            kind,
            volume: reference.volume.clone(),
            system: annotation(meta, labels::ANNOTATION_SYSTEM_NAME).to_string(),
            guid,
            username: annotation(meta, labels::ANNOTATION_USERNAME).to_string(),
            size_bytes: tycho_compiler::parse_kube_bytes(&reference.size).unwrap_or(0),
            size: reference.size,
            storage_class: spec
                .and_then(|s| s.storage_class_name.clone())
                .unwrap_or_default(),
            access_modes: spec
                .and_then(|s| s.access_modes.clone())
                .unwrap_or_default(),
            phase: if meta.deletion_timestamp.is_some() {
                "Terminating".into()
            } else {
                claim
                    .status
                    .as_ref()
                    .and_then(|s| s.phase.clone())
                    .unwrap_or_else(|| "Pending".into())
            },
            created: created.map(|t| t.to_string()).unwrap_or_default(),
            age_seconds: created
                .map(|t| (now.as_second() - t.as_second()).max(0) as u64)
                .unwrap_or(0),
            in_use: !used_by.is_empty(),
            used_by,
            released_at,
            expires_at: expires.map(|(at, _)| at.to_string()).unwrap_or_default(),
            warning,
        })
    }
}

/// The claim's kind, from its label.
fn kind_of(meta: &ObjectMeta) -> Option<VolumeKind> {
    VolumeKind::from_label(meta.labels.as_ref()?.get(labels::CLAIM_KIND)?)
}

fn owner_of(meta: &ObjectMeta) -> Option<&str> {
    meta.labels
        .as_ref()?
        .get(super::LABEL_OWNER_HASH)
        .map(String::as_str)
}

fn annotation<'a>(meta: &'a ObjectMeta, key: &str) -> &'a str {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .map_or("", String::as_str)
}

/// What a delete reports about one claim (a claim from before kinds were labelled is the
/// system's own).
fn volume_ref(claim: &PersistentVolumeClaim) -> VolumeRef {
    let size = claim
        .spec
        .as_ref()
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
        .and_then(|r: &BTreeMap<_, _>| r.get("storage"))
        .map(|q| q.0.clone())
        .unwrap_or_default();
    VolumeRef {
        name: claim.metadata.name.clone().unwrap_or_default(),
        kind: kind_of(&claim.metadata).unwrap_or(VolumeKind::System),
        volume: annotation(&claim.metadata, labels::ANNOTATION_VOLUME).to_string(),
        size,
    }
}

/// When a kept claim expires: its release time plus the TTL; never for the home.
fn expiry(meta: &ObjectMeta, ttl: Duration) -> Option<Timestamp> {
    if kind_of(meta)? == VolumeKind::Home {
        return None;
    }
    let released: Timestamp = annotation(meta, labels::ANNOTATION_RELEASED_AT)
        .parse()
        .ok()?;
    let seconds = i64::try_from(ttl.as_secs()).ok()?;
    Timestamp::from_second(released.as_second().checked_add(seconds)?).ok()
}

/// The claims a pod spec mounts.
fn claim_names(spec: Option<&PodSpec>) -> Vec<String> {
    spec.and_then(|s| s.volumes.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|v| v.persistent_volume_claim.as_ref())
        .map(|c| c.claim_name.clone())
        .collect()
}

fn whole_seconds(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

/// A TTL in the largest whole unit (`30d`, `12h`, `90m`, `45s`).
fn period(ttl: Duration) -> String {
    let s = ttl.as_secs();
    match s {
        _ if s.is_multiple_of(86_400) => format!("{}d", s / 86_400),
        _ if s.is_multiple_of(3_600) => format!("{}h", s / 3_600),
        _ if s.is_multiple_of(60) => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
}

fn patch_params() -> PatchParams {
    PatchParams {
        field_manager: Some(super::kubernetes::FIELD_MANAGER.into()),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_comes_a_tenth_of_the_ttl_early_at_least_a_day() {
        let day = Duration::from_secs(86_400);
        assert_eq!(warning_window(30 * day), 3 * day);
        assert_eq!(warning_window(7 * day), day);
        assert_eq!(
            warning_window(Duration::from_secs(3_600)),
            Duration::from_secs(3_600)
        );
        assert_eq!(period(30 * day), "30d");
        assert_eq!(period(Duration::from_secs(5_400)), "90m");
    }
}
