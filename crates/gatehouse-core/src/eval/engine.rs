//! The rule/condition algorithm over a shared, mutable working result.

use super::{EvalEnv, Evaluation, JsonValue, Outcome, SecondaryExposure};
use crate::hash::{eval_hash, id_list_key};
use crate::overrides::OverrideValue;
use crate::spec::{Condition, ConditionKind, Kind, Left, Rule, Snapshot, Spec};
use crate::user::User;
use crate::value::DynValue;
use serde_json::{Map, Value};
use smallvec::SmallVec;
use std::borrow::Cow;

/// Nested gate (and experiment-group) evaluations allowed on one path.
const MAX_ISOLATED_DEPTH: u16 = 64;
/// Config delegations allowed on one path (unreachable before the limit above).
const MAX_NESTED: u16 = 300;
/// Secondary exposures kept per list. Real specs stay far below; a gate
/// graph with shared sub-gates can otherwise produce 2^depth entries (the
/// reference builds them all and hangs). Documented in docs/CONFORMANCE.md.
pub(crate) const MAX_EXPOSURES: usize = 10_000;

/// Append to an exposure list, up to [`MAX_EXPOSURES`] (nothing when skipped).
fn add_exposures<'s>(
    mode: Exposures,
    list: &mut Vec<SecondaryExposure<'s>>,
    more: &[SecondaryExposure<'s>],
) {
    if mode == Exposures::Skip {
        return;
    }
    let room = MAX_EXPOSURES.saturating_sub(list.len());
    list.extend_from_slice(&more[..more.len().min(room)]);
}

/// Evaluation stopped: too deep.
struct DepthExceeded;

type Step<T = ()> = Result<T, DepthExceeded>;

/// The working result, shared by a spec and its delegated experiment, and
/// replaced by a fresh one for each nested gate.
#[derive(Default)]
struct Work<'s> {
    bool_value: bool,
    unsupported: bool,
    is_experiment_group: bool,
    is_experiment_active: bool,
    is_in_layer: bool,
    id_type: Option<&'s str>,
    json_value: Option<JsonValue<'s>>,
    rule_id: Option<&'s str>,
    group_name: Option<&'s str>,
    explicit_parameters: Option<&'s [String]>,
    config_delegate: Option<&'s str>,
    secondary_exposures: Vec<SecondaryExposure<'s>>,
    undelegated: Option<Vec<SecondaryExposure<'s>>>,
    override_reason: Option<&'static str>,
    version: Option<u32>,
    sampling_rate: Option<u64>,
    forward_all_exposures: Option<bool>,
    analytical: bool,
    parameter_rule_ids: Option<Vec<(String, &'s str)>>,
    id_list_source: Option<&'static str>,
    /// Set when a config mapping answered (dcs-semantics §11.1).
    override_config_name: Option<&'s str>,
}

/// A nested gate's result within one call.
struct Memo<'s> {
    name: &'s str,
    value: bool,
    rule_id: Option<&'s str>,
    exposures: Vec<SecondaryExposure<'s>>,
    source: Option<&'static str>,
    /// For a supported gate: whether referencing it marks the parent
    /// analytical; for an unsupported one: the child's own flag.
    analytical: bool,
    override_config_name: Option<&'s str>,
    unsupported: bool,
    /// Isolated levels the evaluation needed, itself included.
    height: u16,
    /// The reference memoizes this gate too (delta D1g), so a repeat is a
    /// plain hit: never analytical, never re-evaluated.
    reference_memoizes: bool,
}

impl<'s> Memo<'s> {
    fn new(name: &'s str, child: Work<'s>, height: u16) -> Memo<'s> {
        let supported_analytical =
            child.analytical || (!name.starts_with("segment:") && child.sampling_rate.is_none());
        let analytical = if child.unsupported {
            child.analytical
        } else {
            supported_analytical
        };
        Memo {
            name,
            value: child.bool_value,
            rule_id: child.rule_id,
            exposures: child.secondary_exposures,
            source: child.id_list_source,
            analytical,
            override_config_name: child.override_config_name,
            unsupported: child.unsupported,
            height,
            reference_memoizes: !name.is_empty()
                && !child.unsupported
                && !analytical
                && child.override_config_name.is_none(),
        }
    }
}

struct Ctx<'s, 'a> {
    snap: &'s Snapshot,
    exposures: Exposures,
    user: &'a User,
    env: &'a EvalEnv<'a>,
    w: Work<'s>,
    /// Delegation depth; a spec finalized while > 0 only decrements it.
    nested: u16,
    isolated: u16,
    /// Nested gates evaluated in this call. Few per call, so a vector.
    memo: SmallVec<[Memo<'s>; 4]>,
    /// The deepest isolated level reached so far (for memo heights).
    peak: u16,
    /// Experiments whose group is being resolved on the current path.
    group_path: Vec<u32>,
}

#[derive(PartialEq, Eq)]
enum Found {
    Yes,
    No,
}

/// Whether an evaluation records secondary exposures. Nothing but the
/// exposure lists depends on them, so a caller that only needs the value
/// (a `check_gate` with exposure logging off) skips building them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Exposures {
    Record,
    Skip,
}

pub(super) fn evaluate<'s>(
    snap: &'s Snapshot,
    user: &User,
    kind: Kind,
    name: &str,
    env: &EvalEnv<'_>,
) -> Evaluation<'s> {
    let (outcome, w) = run(snap, user, kind, name, env, Exposures::Record);
    finish(kind, outcome, w)
}

/// The value of a gate without exposure bookkeeping or a result object.
pub(super) fn gate_value(snap: &Snapshot, user: &User, name: &str, env: &EvalEnv<'_>) -> bool {
    match run(snap, user, Kind::Gate, name, env, Exposures::Skip) {
        (Outcome::DepthExceeded, _) => false,
        (_, w) => w.bool_value,
    }
}

fn run<'s>(
    snap: &'s Snapshot,
    user: &User,
    kind: Kind,
    name: &str,
    env: &EvalEnv<'_>,
    exposures: Exposures,
) -> (Outcome, Work<'s>) {
    let mut ctx = Ctx {
        snap,
        user,
        env,
        exposures,
        w: Work::default(),
        nested: 0,
        isolated: 0,
        memo: SmallVec::new(),
        peak: 0,
        group_path: Vec::new(),
    };
    let idx = snap.lookup(kind, name);
    let outcome = match ctx.eval_spec(name, idx, kind) {
        Err(DepthExceeded) => Outcome::DepthExceeded,
        Ok(Found::No) => Outcome::Unrecognized,
        Ok(Found::Yes) if ctx.w.unsupported => Outcome::Unsupported,
        Ok(Found::Yes) => Outcome::Recognized,
    };
    (outcome, ctx.w)
}

fn finish(kind: Kind, outcome: Outcome, w: Work<'_>) -> Evaluation<'_> {
    if outcome == Outcome::DepthExceeded {
        return Evaluation {
            kind,
            outcome,
            bool_value: false,
            json_value: None,
            rule_id: "default",
            id_type: "",
            group_name: None,
            is_experiment_active: false,
            is_user_in_experiment: false,
            is_in_layer: false,
            explicit_parameters: None,
            allocated_experiment_name: None,
            secondary_exposures: Vec::new(),
            undelegated_secondary_exposures: None,
            parameter_rule_ids: None,
            version: None,
            sampling_rate: None,
            forward_all_exposures: None,
            has_seen_analytical_gates: false,
            override_reason: None,
            id_list_source: None,
            override_config_name: None,
        };
    }
    Evaluation {
        kind,
        outcome,
        bool_value: w.bool_value,
        json_value: w.json_value,
        rule_id: w.rule_id.unwrap_or(""),
        id_type: w.id_type.unwrap_or(""),
        group_name: w.group_name,
        is_experiment_active: w.is_experiment_active,
        is_user_in_experiment: w.is_experiment_group,
        is_in_layer: w.is_in_layer,
        explicit_parameters: w.explicit_parameters,
        allocated_experiment_name: w.config_delegate.filter(|d| !d.is_empty()),
        secondary_exposures: w.secondary_exposures,
        undelegated_secondary_exposures: w.undelegated,
        parameter_rule_ids: w.parameter_rule_ids,
        version: w.version,
        sampling_rate: w.sampling_rate,
        forward_all_exposures: w.forward_all_exposures,
        has_seen_analytical_gates: w.analytical,
        override_reason: w.override_reason,
        id_list_source: w.id_list_source,
        override_config_name: w.override_config_name,
    }
}

impl<'s, 'a> Ctx<'s, 'a> {
    fn spec(&self, idx: u32) -> &'s Spec {
        &self.snap.specs[idx as usize]
    }

    /// dcs-semantics §3.2–§3.4 on the working result.
    fn eval_spec(&mut self, name: &str, idx: Option<u32>, kind: Kind) -> Step<Found> {
        if let Some(overrides) = self.env.overrides {
            if let Some(value) = overrides.lookup(kind, name, self.user) {
                self.apply_override(value, idx);
                return Ok(Found::Yes);
            }
        }
        if !self.snap.mappings.is_empty() && self.config_mapping(name, idx, kind) {
            return Ok(Found::Yes);
        }
        let Some(idx) = idx else { return Ok(Found::No) };
        let spec = self.spec(idx);
        let w = &mut self.w;
        w.id_type.get_or_insert(&spec.id_type);
        if w.version.is_none() {
            w.version = spec.version;
        }
        if let Some(active) = spec.is_active {
            w.is_experiment_active = active;
        }
        if let Some(shared) = spec.has_shared_params {
            w.is_in_layer = shared;
        }
        if let Some(params) = &spec.explicit_parameters {
            w.explicit_parameters = Some(params);
        }
        if spec.use_new_layer_eval && kind == Kind::Layer {
            return self.new_layer_eval(spec);
        }

        for rule in &spec.rules {
            self.eval_rule(rule)?;
            if self.w.unsupported {
                return Ok(Found::Yes);
            }
            if !self.w.bool_value {
                continue;
            }
            if self.delegate(rule)? {
                self.finalize(spec, None);
                return Ok(Found::Yes);
            }
            let pass = self.passes_percentage(rule, None);
            let w = &mut self.w;
            if pass {
                w.bool_value = rule.return_bool;
                w.json_value = Some(JsonValue::Borrowed(&rule.return_value));
            } else {
                w.bool_value = spec.default_bool;
                w.json_value = Some(JsonValue::Borrowed(&spec.default_value));
            }
            w.rule_id = Some(&rule.id);
            w.group_name = rule.group_name.as_deref();
            w.is_experiment_group = rule.is_experiment_group.unwrap_or(false);
            w.is_experiment_active = spec.is_active.unwrap_or(false);
            self.finalize(spec, Some(rule));
            return Ok(Found::Yes);
        }

        let w = &mut self.w;
        w.bool_value = spec.default_bool;
        w.json_value = Some(JsonValue::Borrowed(&spec.default_value));
        w.rule_id = Some(if spec.enabled { "default" } else { "disabled" });
        self.finalize(spec, None);
        Ok(Found::Yes)
    }

    /// A local override answers (dcs-semantics §3.2 step 1, §11.1): the
    /// value, rule id `override`, no spec fields. Like any finished spec it
    /// closes one delegation level.
    fn apply_override(&mut self, value: &OverrideValue, idx: Option<u32>) {
        let w = &mut self.w;
        match value {
            OverrideValue::Gate(b) => w.bool_value = *b,
            OverrideValue::Value(map) => {
                w.json_value = Some(JsonValue::Owned(Box::new(map.clone())));
            }
            OverrideValue::Group(group) => {
                let spec = idx.map(|i| &self.snap.specs[i as usize]);
                w.json_value = spec
                    .and_then(|s| {
                        s.rules
                            .iter()
                            .find(|r| r.group_name.as_deref() == Some(group.as_str()))
                    })
                    .map(|r| JsonValue::Borrowed(&r.return_value));
            }
        }
        w.rule_id = Some("override");
        w.override_reason = Some("LocalOverride");
        self.nested = self.nested.saturating_sub(1);
    }

    /// dcs-semantics §3.8.
    fn finalize(&mut self, spec: &'s Spec, rule: Option<&'s Rule>) {
        let w = &mut self.w;
        w.sampling_rate = rule.and_then(|r| r.sampling_rate);
        w.forward_all_exposures = spec.forward_all_exposures;
        if self.nested > 0 {
            self.nested -= 1;
            return;
        }
        if !w.secondary_exposures.is_empty() && w.undelegated.is_none() {
            w.undelegated = Some(w.secondary_exposures.clone());
        }
    }

    /// Every condition runs (no short-circuit: nested gates record
    /// exposures). A missing condition key stops the rule at once.
    fn eval_rule(&mut self, rule: &'s Rule) -> Step {
        let mut all = true;
        for cond in &rule.conditions {
            let Some(ci) = *cond else {
                self.w.unsupported = true;
                return Ok(());
            };
            self.eval_condition(&self.snap.conditions[ci as usize])?;
            all &= self.w.bool_value;
        }
        self.w.bool_value = all;
        Ok(())
    }

    fn eval_condition(&mut self, cond: &'s Condition) -> Step {
        match &cond.kind {
            ConditionKind::Public => self.w.bool_value = true,
            ConditionKind::Gate { name, spec, invert } => self.nested_gate(name, *spec, *invert)?,
            // The working bool is left as it was: the reference repeats the
            // previous condition's result.
            ConditionKind::Unsupported => self.w.unsupported = true,
            ConditionKind::Compare { left, cmp } => {
                let value = self.left(left, cond)?;
                let b = cmp.eval(&value);
                self.w.bool_value = b;
            }
            ConditionKind::IdList { left, list, negate } => {
                let env = self.env;
                let value = self.left(left, cond)?;
                let (consulted, found) = match (list, value.string_facet()) {
                    (Some(list), Some(unit)) => {
                        let key = id_list_key(unit);
                        let lists = env.id_lists;
                        (
                            true,
                            lists
                                .and_then(|l| l.get(&**list))
                                .is_some_and(|l| l.contains_key(&key)),
                        )
                    }
                    _ => (false, false),
                };
                if consulted {
                    self.w.id_list_source = Some("IdListInMemory");
                }
                self.w.bool_value = found != *negate;
            }
        }
        Ok(())
    }

    fn left<'x>(&'x mut self, left: &'s Left, cond: &'s Condition) -> Step<Cow<'x, DynValue>> {
        let user: &'x User = self.user;
        let null: &'x DynValue = &self.snap.null;
        Ok(match left {
            Left::User(key) => {
                Cow::Borrowed(key.as_ref().and_then(|k| user.field(k)).unwrap_or(null))
            }
            Left::Environment(key) => {
                let Some(key) = key else {
                    return Ok(Cow::Borrowed(null));
                };
                if let Some(v) = user.environment_field(&key.raw) {
                    return Ok(Cow::Borrowed(v));
                }
                let env = self.env.environment;
                let lower: &str = key.lower.as_deref().unwrap_or(&key.raw);
                match env.and_then(|e| e.get(&*key.raw).or_else(|| e.get(lower))) {
                    Some(v) => Cow::Borrowed(v),
                    None => Cow::Borrowed(null),
                }
            }
            Left::UserAgent(key, field) => Cow::Borrowed(
                key.as_ref()
                    .and_then(|k| user.field(k))
                    .or_else(|| field.and_then(|f| user.ua_field(f)))
                    .unwrap_or(null),
            ),
            Left::Ip(key, is_country) => {
                if let Some(v) = key.as_ref().and_then(|k| user.field(k)) {
                    return Ok(Cow::Borrowed(v));
                }
                if !is_country {
                    return Ok(Cow::Borrowed(null));
                }
                let Some(ip) = user.ip_str() else {
                    return Ok(Cow::Borrowed(null));
                };
                match self.env.country {
                    None => {
                        // The reference checks for its table only after the
                        // IP passes its four-part split.
                        if ip.split('.').count() == 4 {
                            self.w.override_reason = Some("CountryLookupNotLoaded");
                        }
                        Cow::Borrowed(null)
                    }
                    Some(table) => Cow::Borrowed(table.lookup_value(ip).unwrap_or(null)),
                }
            }
            Left::CurrentTime => Cow::Owned(DynValue::int_only(self.env.now_ms)),
            Left::UserBucket(prefix) => {
                let unit = user.unit_id_str(&cond.id_type);
                let bucket = prefix.hash(unit) % 1000;
                match self.snap.buckets.get(bucket as usize) {
                    Some(v) => Cow::Borrowed(v),
                    None => Cow::Owned(DynValue::from_json(&Value::from(bucket))),
                }
            }
            Left::UnitId => Cow::Borrowed(user.unit_id(&cond.id_type).unwrap_or(null)),
            Left::TargetApp => Cow::Borrowed(&self.snap.app_id),
            Left::ExperimentGroup(idx) => match self.experiment_group(*idx)? {
                Some(group) => Cow::Owned(DynValue::from_json(&Value::from(group))),
                None => Cow::Borrowed(null),
            },
        })
    }

    /// Run `f` on a fresh working result, then restore the caller's.
    fn isolated(&mut self, f: impl FnOnce(&mut Self) -> Step<Found>) -> Step<(Found, Work<'s>)> {
        if self.isolated >= MAX_ISOLATED_DEPTH {
            return Err(DepthExceeded);
        }
        let parent = std::mem::take(&mut self.w);
        let (nested, isolated) = (self.nested, self.isolated);
        self.nested += 1;
        self.isolated += 1;
        self.peak = self.peak.max(self.isolated);
        let found = f(self);
        self.nested = nested;
        self.isolated = isolated;
        let child = std::mem::replace(&mut self.w, parent);
        Ok((found?, child))
    }

    /// `pass_gate` / `fail_gate` (dcs-semantics §3.5 with delta D1).
    ///
    /// The reference memoizes a nested gate only when it is "plain" (see
    /// [`Memo::reference_memoizes`]) and re-evaluates the others at every
    /// reference, which is exponential in the depth of a gate graph with
    /// shared sub-gates. gatehouse memoizes every nested gate and replays the
    /// entry exactly as a re-evaluation would play out (evaluation is
    /// deterministic within a call). The one thing a re-evaluation can do
    /// that a replay cannot is hit the depth limit at a deeper position; when
    /// the entry's height might not fit below the current depth, the gate is
    /// re-evaluated for real, as the reference does.
    fn nested_gate(&mut self, name: &'s str, spec: Option<u32>, invert: bool) -> Step {
        let found = self.memo.iter().position(|m| m.name == name);
        let replay = match found {
            Some(i) if self.memo[i].reference_memoizes => {
                let m = &self.memo[i];
                self.w.bool_value = m.value;
                self.w.rule_id = m.rule_id;
                add_exposures(
                    self.exposures,
                    &mut self.w.secondary_exposures,
                    &m.exposures,
                );
                self.w.id_list_source = m.source.or(self.w.id_list_source);
                self.finish_nested_gate(name, false, invert);
                return Ok(());
            }
            Some(i) if self.isolated + self.memo[i].height <= MAX_ISOLATED_DEPTH => i,
            _ => {
                let depth = self.isolated;
                let peak = std::mem::replace(&mut self.peak, depth);
                let child = self.isolated(|c| c.eval_spec(name, spec, Kind::Gate));
                let height = self.peak - depth;
                self.peak = self.peak.max(peak);
                let (_, child) = child?;
                let memo = Memo::new(name, child, height);
                match found {
                    Some(i) => {
                        self.memo[i] = memo;
                        i
                    }
                    None => {
                        self.memo.push(memo);
                        self.memo.len() - 1
                    }
                }
            }
        };
        let m = &self.memo[replay];
        self.peak = self.peak.max(self.isolated + m.height);
        self.w.id_list_source = m.source.or(self.w.id_list_source);
        if m.unsupported {
            // The child's own entry is not recorded and the parent's bool stays.
            add_exposures(
                self.exposures,
                &mut self.w.secondary_exposures,
                &m.exposures,
            );
            self.w.analytical |= m.analytical;
            self.w.unsupported = true;
            return Ok(());
        }
        self.w.bool_value = m.value;
        self.w.rule_id = m.rule_id;
        if m.override_config_name.is_some() {
            self.w.override_config_name = m.override_config_name;
        }
        add_exposures(
            self.exposures,
            &mut self.w.secondary_exposures,
            &m.exposures,
        );
        let analytical = m.analytical;
        self.finish_nested_gate(name, analytical, invert);
        Ok(())
    }

    /// Record the gate's own exposure (post-order) and apply `fail_gate`.
    fn finish_nested_gate(&mut self, name: &'s str, analytical: bool, invert: bool) {
        self.w.analytical |= analytical;
        let is_segment = name.starts_with("segment:");
        if let Some(rule_id) = self.w.rule_id.filter(|r| !is_segment && !r.is_empty()) {
            let own = SecondaryExposure {
                gate: name,
                gate_value: self.w.bool_value,
                rule_id,
            };
            add_exposures(self.exposures, &mut self.w.secondary_exposures, &[own]);
        }
        if invert {
            self.w.bool_value = !self.w.bool_value;
        }
    }

    /// `experiment_group`: the group of the named experiment for this user,
    /// evaluated in isolation; exposures are not carried over. A cycle
    /// resolves to no group.
    fn experiment_group(&mut self, idx: Option<u32>) -> Step<Option<&'s str>> {
        let Some(idx) = idx else { return Ok(None) };
        if self.group_path.contains(&idx) {
            return Ok(None);
        }
        self.group_path.push(idx);
        let name = &*self.spec(idx).name;
        let result = self.isolated(|c| c.eval_spec(name, Some(idx), Kind::Experiment));
        self.group_path.pop();
        let (_, child) = result?;
        Ok(if child.unsupported {
            None
        } else {
            child.group_name
        })
    }

    /// Config delegation of a layer rule (dcs-semantics §3.6).
    fn delegate(&mut self, rule: &'s Rule) -> Step<bool> {
        let Some((name, idx)) = &rule.config_delegate else {
            return Ok(false);
        };
        self.w.undelegated = Some(self.w.secondary_exposures.clone());
        self.nested += 1;
        self.w.bool_value = false;
        self.w.json_value = None;
        if self.nested > MAX_NESTED {
            return Err(DepthExceeded);
        }
        if self.eval_spec(name, Some(*idx), Kind::Experiment)? == Found::No {
            self.w.undelegated = None;
            return Ok(false);
        }
        self.w.explicit_parameters = self.spec(*idx).explicit_parameters.as_deref();
        self.w.config_delegate = Some(name);
        Ok(true)
    }

    /// Server-side config mapping (dcs-semantics §11.1): the first mapping
    /// rule that passes its conditions and the original spec's pass
    /// percentage hands the evaluation to the mapping's target.
    fn config_mapping(&mut self, name: &str, idx: Option<u32>, kind: Kind) -> bool {
        let snap = self.snap;
        let Some(mappings) = snap.mappings.get(name) else {
            return false;
        };
        let salt = idx.map_or("", |i| &*self.spec(i).salt);
        for mapping in mappings {
            for (start, rule) in &mapping.rules {
                if *start > self.env.now_ms {
                    continue;
                }
                let Some(rule) = rule else { continue };
                let ok = self.eval_rule(rule).is_ok();
                if !ok || !self.w.bool_value || self.w.unsupported {
                    self.reset();
                    continue;
                }
                let source = self.w.id_list_source;
                self.reset();
                if !self.passes_percentage(rule, Some(salt)) {
                    continue;
                }
                self.w.override_config_name = Some(&mapping.target);
                let target = snap.lookup(kind, &mapping.target);
                match self.eval_spec(&mapping.target, target, kind) {
                    Ok(Found::Yes) => {
                        self.w.id_list_source = self.w.id_list_source.or(source);
                        return true;
                    }
                    _ => {
                        self.reset();
                        break;
                    }
                }
            }
        }
        false
    }

    fn reset(&mut self) {
        self.nested = 0;
        self.w = Work::default();
    }

    /// dcs-semantics §4.2. The rule's own spec salt is absorbed in its
    /// precomputed prefix; a config-mapping rule is hashed with the salt of
    /// the spec being mapped (`mapped_salt`), known only at evaluation.
    fn passes_percentage(&self, rule: &Rule, mapped_salt: Option<&str>) -> bool {
        if rule.pass_percentage == 100.0 {
            return true;
        }
        if rule.pass_percentage == 0.0 {
            return false;
        }
        let unit = self.user.unit_id_str(&rule.id_type);
        let hash = match mapped_salt {
            None => rule.hash_prefix.hash(unit),
            Some(salt) => eval_hash(&[salt, &rule.salt, unit]),
        };
        ((hash % 10000) as f64) < rule.pass_percentage * 100.0
    }

    /// Layers with `useNewLayerEval` (dcs-semantics §3.7 with delta D3).
    fn new_layer_eval(&mut self, spec: &'s Spec) -> Step<Found> {
        let mut any_passed = false;
        let mut passed = false;
        let mut rule_id: &'s str = "default";
        let mut delegate: Option<&'s str> = None;
        let mut group: Option<&'s str> = None;
        let mut is_group = false;
        let mut explicit: Option<&'s [String]> = None;
        let mut value = Map::new();
        let mut rule_ids: Vec<(String, &'s str)> = Vec::new();
        let mut exposures = Vec::new();
        let mut undelegated = Vec::new();

        for rule in &spec.rules {
            self.eval_rule(rule)?;
            undelegated.extend_from_slice(&self.w.secondary_exposures);
            exposures.append(&mut self.w.secondary_exposures);
            if self.w.unsupported {
                self.w.secondary_exposures = exposures;
                self.w.undelegated = Some(undelegated);
                return Ok(Found::Yes);
            }
            if !self.w.bool_value || !self.passes_percentage(rule, None) {
                continue;
            }
            if self.delegate(rule)? {
                if any_passed {
                    continue;
                }
                let Some(delegated) = self.w.json_value.as_ref().and_then(JsonValue::as_object)
                else {
                    continue;
                };
                if delegated.keys().any(|k| value.contains_key(k)) {
                    continue;
                }
                let delegated = delegated.clone();
                merge(&mut value, &mut rule_ids, &delegated, &rule.id);
                exposures.append(&mut self.w.secondary_exposures);
                passed = self.w.bool_value;
                delegate = self.w.config_delegate;
                group = self.w.group_name;
                rule_id = &rule.id;
                is_group = rule.is_experiment_group.unwrap_or(false);
                explicit = self.w.explicit_parameters;
            } else {
                passed = self.w.bool_value;
                if let Some(obj) = rule.return_value.as_object() {
                    merge(&mut value, &mut rule_ids, obj, &rule.id);
                }
            }
            any_passed = true;
        }
        if let Some(obj) = spec.default_value.as_object() {
            merge(&mut value, &mut rule_ids, obj, "default");
        }
        let w = &mut self.w;
        w.bool_value = passed;
        w.config_delegate = delegate;
        w.group_name = group;
        w.rule_id = Some(rule_id);
        w.json_value = Some(JsonValue::Owned(Box::new(value)));
        w.is_experiment_group = is_group;
        w.is_experiment_active = spec.is_active.unwrap_or(false);
        w.explicit_parameters = explicit;
        w.secondary_exposures = exposures;
        w.undelegated = Some(undelegated);
        w.parameter_rule_ids = Some(rule_ids);
        self.finalize(spec, None);
        Ok(Found::Yes)
    }
}

/// Insert keys not yet present (first writer wins), recording which rule set each.
fn merge<'s>(
    value: &mut Map<String, Value>,
    rule_ids: &mut Vec<(String, &'s str)>,
    from: &Map<String, Value>,
    rule_id: &'s str,
) {
    for (k, v) in from {
        if !value.contains_key(k) {
            value.insert(k.clone(), v.clone());
            rule_ids.push((k.clone(), rule_id));
        }
    }
}
