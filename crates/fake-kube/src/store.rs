//! The object store: every object as JSON keyed by (plural, namespace, name), one global
//! resourceVersion counter, and the bookkeeping that goes with writes (change events for
//! watchers, ownerReference garbage collection, IP allocation, deferred work).
//!
//! `Store` is `Clone` so a dry-run can run the real code path against a scratch copy.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};

use crate::kinds::{self, Kind};
use crate::util::{Rng, now_rfc3339};

/// (plural, namespace or "" for cluster-scoped, name)
pub(crate) type Key = (&'static str, String, String);

/// One ADDED/MODIFIED/DELETED notification, as a watcher sees it.
#[derive(Clone, Debug)]
pub(crate) struct Change {
    pub rv: u64,
    pub plural: &'static str,
    pub namespace: String,
    pub kind: &'static str,
    pub object: Value,
}

/// Work the simulated controllers must do later (a pod turning Ready, a rollout deadline).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    PodReady {
        namespace: String,
        name: String,
        uid: String,
    },
    Deployment {
        namespace: String,
        name: String,
    },
    /// A terminating pod's containers have exited or its grace period ended.
    PodGone {
        namespace: String,
        name: String,
        uid: String,
    },
    /// A pass of the garbage collector (see `gc`).
    Collect,
}

/// A stored object and its JSON text, serialised once when it is written so that a list only
/// concatenates bytes (objects change far less often than they are listed).
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub value: Value,
    pub json: Arc<str>,
    /// When it was last written (Events expire by this, as the API server's TTL does).
    pub written: std::time::Instant,
}

impl Entry {
    fn new(value: Value) -> Self {
        let json = Arc::from(value.to_string());
        Entry {
            value,
            json,
            written: std::time::Instant::now(),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Store {
    objects: BTreeMap<Key, Entry>,
    rv: u64,
    pub rng: Rng,
    next_cluster_ip: u32,
    next_pod_ip: u32,
    /// By due time: finding what is due (on every request) does not walk the rest.
    pub timers: std::collections::BTreeSet<(Instant, Timer)>,
    /// Deadlines added since the last drain; the server spawns a wake-up task for each.
    pub new_deadlines: Vec<Instant>,
    /// When each ReplicaSet (by uid) started rolling out, for progressDeadlineSeconds.
    pub rollout_start: HashMap<String, Instant>,
    pub changes: Vec<Change>,
}

pub(crate) fn str_at<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

pub(crate) fn name_of(obj: &Value) -> &str {
    str_at(obj, "/metadata/name")
}

pub(crate) fn uid_of(obj: &Value) -> &str {
    str_at(obj, "/metadata/uid")
}

pub(crate) fn owner_uids(obj: &Value) -> impl Iterator<Item = &str> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|o| o.get("uid").and_then(Value::as_str))
}

/// The controlling owner's (kind, name), if any.
pub(crate) fn controller_of(obj: &Value) -> Option<(&str, &str)> {
    obj.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true))
        .map(|o| (str_at(o, "/kind"), str_at(o, "/name")))
}

impl Store {
    pub(crate) fn new() -> Self {
        let mut store = Store {
            objects: BTreeMap::new(),
            rv: 0,
            rng: Rng::seeded(),
            next_cluster_ip: 10,
            next_pod_ip: 2,
            timers: Default::default(),
            new_deadlines: Vec::new(),
            rollout_start: HashMap::new(),
            changes: Vec::new(),
        };
        // The real server starts with "default"; creates elsewhere need their namespace first.
        let ns = store.new_namespace_object("default");
        store.insert(&kinds::NAMESPACES, ns);
        let class = crate::storage::standard_class(store.rng.uuid());
        store.insert(&kinds::STORAGECLASSES, class);
        store.changes.clear();
        store
    }

    pub(crate) fn new_namespace_object(&mut self, name: &str) -> Value {
        json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {
                "name": name, "uid": self.rng.uuid(), "creationTimestamp": now_rfc3339(),
                "labels": {"kubernetes.io/metadata.name": name},
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        })
    }

    pub(crate) fn resource_version(&self) -> u64 {
        self.rv
    }

    /// Objects other than Events (which outlive the objects they are about) and StorageClasses
    /// (the cluster's set-up, not anything a test creates).
    pub(crate) fn count(&self) -> usize {
        self.objects
            .keys()
            .filter(|k| !["events", "leases", kinds::STORAGECLASSES.plural].contains(&k.0))
            .count()
    }

    /// Removes Events last written more than `ttl` ago, as the API server does (1 h by default).
    pub(crate) fn expire_events(&mut self, ttl: std::time::Duration) {
        // Only the Events' range of the map: a store of many systems is not walked per request.
        let start: Key = (kinds::EVENTS.plural, String::new(), String::new());
        let expired: Vec<Key> = self
            .objects
            .range(start..)
            .take_while(|(k, _)| k.0 == kinds::EVENTS.plural)
            .filter(|(_, e)| e.written.elapsed() > ttl)
            .map(|(k, _)| k.clone())
            .collect();
        for key in expired {
            if let Some(Entry { value: mut obj, .. }) = self.objects.remove(&key) {
                let rv = self.stamp(&mut obj);
                self.record(&kinds::EVENTS, "DELETED", rv, &obj);
            }
        }
    }

    fn key(kind: &Kind, ns: &str, name: &str) -> Key {
        (
            kind.plural,
            if kind.namespaced {
                ns.to_string()
            } else {
                String::new()
            },
            name.to_string(),
        )
    }

    pub(crate) fn get(&self, kind: &Kind, ns: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(&Self::key(kind, ns, name))
            .map(|e| &e.value)
    }

    pub(crate) fn namespace_exists(&self, ns: &str) -> bool {
        self.get(&kinds::NAMESPACES, "", ns).is_some()
    }

    /// Objects of a kind, in one namespace or (None) all, ordered by namespace then name.
    pub(crate) fn list(&self, kind: &Kind, ns: Option<&str>) -> Vec<&Value> {
        self.entries(kind, ns).map(|e| &e.value).collect()
    }

    /// Like `list`, with each object's serialised JSON.
    pub(crate) fn entries<'a>(
        &'a self,
        kind: &Kind,
        ns: Option<&str>,
    ) -> impl Iterator<Item = &'a Entry> + use<'a> {
        let ns = if kind.namespaced {
            ns.map(str::to_string)
        } else {
            None
        };
        let plural = kind.plural;
        let start: Key = (plural, ns.clone().unwrap_or_default(), String::new());
        self.objects
            .range(start..)
            .take_while(move |(k, _)| k.0 == plural && ns.as_ref().is_none_or(|n| k.1 == *n))
            .map(|(_, e)| e)
    }

    fn stamp(&mut self, obj: &mut Value) -> u64 {
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.rv
    }

    fn record(&mut self, kind: &'static Kind, type_: &'static str, rv: u64, obj: &Value) {
        self.changes.push(Change {
            rv,
            plural: kind.plural,
            namespace: str_at(obj, "/metadata/namespace").to_string(),
            kind: type_,
            object: obj.clone(),
        });
    }

    /// Stores a new, fully prepared object (metadata already filled) and emits ADDED.
    pub(crate) fn insert(&mut self, kind: &'static Kind, mut obj: Value) -> Value {
        let rv = self.stamp(&mut obj);
        let key = Self::key(kind, str_at(&obj, "/metadata/namespace"), name_of(&obj));
        self.record(kind, "ADDED", rv, &obj);
        self.objects.insert(key, Entry::new(obj.clone()));
        obj
    }

    /// Replaces an existing object and emits MODIFIED.
    pub(crate) fn update(&mut self, kind: &'static Kind, mut obj: Value) -> Value {
        let rv = self.stamp(&mut obj);
        let key = Self::key(kind, str_at(&obj, "/metadata/namespace"), name_of(&obj));
        self.record(kind, "MODIFIED", rv, &obj);
        self.objects.insert(key, Entry::new(obj.clone()));
        obj
    }

    /// Like `update`, but a no-op (no new resourceVersion, no event) if nothing changed; the
    /// simulated controllers call this on every pass.
    pub(crate) fn update_if_changed(&mut self, kind: &'static Kind, mut obj: Value) -> Value {
        let ns = str_at(&obj, "/metadata/namespace").to_string();
        if let Some(old) = self.get(kind, &ns, name_of(&obj)) {
            obj["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"].clone();
            if *old == obj {
                return obj;
            }
        }
        self.update(kind, obj)
    }

    /// Deletes one object and, transitively, everything that names a deleted object's uid in
    /// its ownerReferences (the garbage collector) and every object in a deleted namespace.
    /// Events about deleted objects stay until they expire, as on a real API server. Returns
    /// the deleted objects, the requested one first.
    pub(crate) fn remove_cascade(
        &mut self,
        kind: &'static Kind,
        ns: &str,
        name: &str,
    ) -> Vec<(&'static Kind, Value)> {
        let root = Self::key(kind, ns, name);
        let Some(first) = self.objects.get(&root).map(|e| &e.value) else {
            return Vec::new();
        };
        let mut doomed_keys = vec![root.clone()];
        let mut doomed: HashSet<Key> = HashSet::from([root]);
        let mut uids: HashSet<String> = HashSet::from([uid_of(first).to_string()]);
        if kind == &kinds::NAMESPACES {
            for (k, Entry { value: v, .. }) in &self.objects {
                if kinds::by_plural(k.0).is_some_and(|kd| kd.namespaced)
                    && k.1 == name
                    && doomed.insert(k.clone())
                {
                    doomed_keys.push(k.clone());
                    uids.insert(uid_of(v).to_string());
                }
            }
        }
        loop {
            let more: Vec<(Key, String)> = self
                .objects
                .iter()
                .filter(|(k, _)| !doomed.contains(*k))
                .filter(|(k, e)| {
                    // Events are not owned: they outlive their objects until they expire.
                    k.0 != "events" && owner_uids(&e.value).any(|u| uids.contains(u))
                })
                .map(|(k, e)| (k.clone(), uid_of(&e.value).to_string()))
                .collect();
            if more.is_empty() {
                break;
            }
            for (k, uid) in more {
                doomed.insert(k.clone());
                doomed_keys.push(k);
                uids.insert(uid);
            }
        }
        let mut out = Vec::new();
        for key in doomed_keys {
            if let Some(Entry { value: mut obj, .. }) = self.objects.remove(&key) {
                let kd = kinds::by_plural(key.0).unwrap_or(&kinds::EVENTS);
                let rv = self.stamp(&mut obj);
                self.record(kd, "DELETED", rv, &obj);
                out.push((kd, obj));
            }
        }
        out
    }

    /// Deletes exactly one object (no cascade) and emits DELETED; returns it if it existed.
    pub(crate) fn remove(&mut self, kind: &'static Kind, ns: &str, name: &str) -> Option<Value> {
        let Entry { value: mut obj, .. } = self.objects.remove(&Self::key(kind, ns, name))?;
        let rv = self.stamp(&mut obj);
        self.record(kind, "DELETED", rv, &obj);
        Some(obj)
    }

    /// Every stored object with its kind, Events included, in key order.
    pub(crate) fn every(&self) -> impl Iterator<Item = (&'static Kind, &Value)> {
        self.objects
            .iter()
            .filter_map(|(k, e)| kinds::by_plural(k.0).map(|kind| (kind, &e.value)))
    }

    /// Every object of any kind whose controller owner has this uid.
    pub(crate) fn owned_by(&self, kind: &Kind, ns: &str, owner_uid: &str) -> Vec<Value> {
        self.list(kind, Some(ns))
            .into_iter()
            .filter(|o| owner_uids(o).any(|u| u == owner_uid))
            .cloned()
            .collect()
    }

    fn used_cluster_ips(&self) -> HashSet<&str> {
        self.list(&kinds::SERVICES, None)
            .into_iter()
            .map(|s| str_at(s, "/spec/clusterIP"))
            .collect()
    }

    pub(crate) fn cluster_ip_taken(&self, ip: &str) -> bool {
        self.used_cluster_ips().contains(ip)
    }

    /// Next free address in 10.96.0.0/16 (the usual service CIDR start).
    pub(crate) fn alloc_cluster_ip(&mut self) -> String {
        loop {
            let n = self.next_cluster_ip;
            self.next_cluster_ip = if n >= 0xFFFE { 10 } else { n + 1 };
            if n.is_multiple_of(256) || n % 256 == 255 {
                continue;
            }
            let ip = format!("10.96.{}.{}", n / 256, n % 256);
            if !self.cluster_ip_taken(&ip) {
                return ip;
            }
        }
    }

    pub(crate) fn alloc_pod_ip(&mut self) -> String {
        let n = self.next_pod_ip;
        self.next_pod_ip = if n >= 0xFFFE { 2 } else { n + 1 };
        format!("10.244.{}.{}", n / 256, n % 256)
    }

    /// NodePorts held by services other than `except` (namespace, name).
    pub(crate) fn used_node_ports(&self, except: (&str, &str)) -> HashSet<i64> {
        self.list(&kinds::SERVICES, None)
            .into_iter()
            .filter(|s| (str_at(s, "/metadata/namespace"), name_of(s)) != except)
            .flat_map(|s| {
                s.pointer("/spec/ports")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|p| p.get("nodePort").and_then(Value::as_i64))
            .collect()
    }

    pub(crate) fn add_timer(&mut self, at: Instant, timer: Timer) {
        if self.timers.insert((at, timer)) {
            self.new_deadlines.push(at);
        }
    }

    /// Removes and returns the timers that are due.
    pub(crate) fn due_timers(&mut self, now: Instant) -> Vec<Timer> {
        let mut due = Vec::new();
        while self.timers.first().is_some_and(|(t, _)| *t <= now) {
            if let Some((_, timer)) = self.timers.pop_first() {
                due.push(timer);
            }
        }
        due
    }
}
