//! Evaluating a policy: decisions (conftest's `deny`/`violation`/`warn`), Rego unit tests
//! (`test_` rules, as `opa test`), and plain rule queries (`required_stages` for plans).
//!
//! Fail closed: every way evaluation can go wrong is a [`PolicyError`]. Runaway rules are
//! stopped twice over: regorus's cooperative execution timer (checked in its evaluation loops)
//! and, for work a single builtin call does between checks, a wall-clock deadline on the
//! evaluation thread, after which the verdict is an error whatever the thread is doing.

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use regorus::{Engine, Value};
use serde_json::Value as Json;

use crate::error::PolicyError;
use crate::policy::{self, decision_kind, DecisionKind, Policy, RuleRef};
use crate::verdict::{Reason, Verdict};

#[derive(Debug, Clone, Copy)]
pub struct EvalOptions {
    /// Wall-clock budget for the whole evaluation.
    pub time_limit: Duration,
    /// The clock `time.now_ns()` returns.
    pub now: Timestamp,
}

impl EvalOptions {
    pub fn new(time_limit: Duration, now: Timestamp) -> Self {
        EvalOptions { time_limit, now }
    }
}

/// A prepared engine: builtins registered, modules loaded, timer set.
fn engine(policy: &Policy, opts: &EvalOptions) -> Result<Engine, PolicyError> {
    let mut engine = Engine::new();
    crate::builtins::register(&mut engine, opts.now)
        .map_err(|e| PolicyError::Compile { file: policy.name.clone(), message: e.to_string() })?;
    engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
        limit: opts.time_limit,
        check_interval: std::num::NonZeroU32::MIN,
    });
    // OPA returns undefined for most builtin errors; regorus raises them. Raising is what a
    // gate wants: a policy fed something it does not expect fails closed instead of skipping.
    engine.set_strict_builtin_errors(true);
    policy::load(&mut engine, policy)?;
    Ok(engine)
}

fn eval_error(policy: &Policy, rule: &str, opts: &EvalOptions, err: &anyhow::Error) -> PolicyError {
    let timed_out = err.chain().any(|e| {
        matches!(e.downcast_ref::<regorus::LimitError>(), Some(regorus::LimitError::TimeLimitExceeded { .. }))
    }) || err.to_string().contains("time limit");
    if timed_out {
        PolicyError::Timeout { policy: policy.name.clone(), rule: rule.to_owned(), limit: opts.time_limit }
    } else {
        PolicyError::Eval {
            policy: policy.name.clone(),
            rule: rule.to_owned(),
            message: policy::clean(&err.to_string()),
        }
    }
}

/// Runs `work` on its own thread and gives up at the deadline (the thread is left to finish
/// or be torn down with the process; its result is discarded).
fn with_deadline<T: Send + 'static>(
    policy: &Policy,
    opts: &EvalOptions,
    work: impl FnOnce() -> Result<T, PolicyError> + Send + 'static,
) -> Result<T, PolicyError> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new().name("sluice-policy".into()).spawn(move || {
        let _ = tx.send(work());
    });
    if let Err(e) = spawned {
        return Err(PolicyError::Eval { policy: policy.name.clone(), rule: "(start)".into(), message: e.to_string() });
    }
    // Grace for loading and for the cooperative timer to report first with a precise message.
    let deadline = opts.time_limit + opts.time_limit / 2 + Duration::from_secs(1);
    match rx.recv_timeout(deadline) {
        Ok(result) => result,
        Err(_) => Err(PolicyError::Timeout {
            policy: policy.name.clone(),
            rule: "(evaluation)".into(),
            limit: opts.time_limit,
        }),
    }
}

/// Evaluates the policy's decision rules over `input` (a JSON document: sluice's policy input,
/// or any JSON for conftest-style use). Packages are all evaluated (conftest's
/// `--all-namespaces`): a rule that is not evaluated could not refuse anything.
pub fn decide(policy: &Policy, input: Json, opts: &EvalOptions) -> Result<Verdict, PolicyError> {
    decide_with(policy, opts, move || Ok(Value::from(input)))
}

/// [`decide`] over sluice's policy input. The gate uses it: the input is turned into the
/// engine's values directly, one finding at a time, with repeated strings (keys, stage, tool,
/// rule, severity, paths) shared, so no JSON text or `serde_json::Value` tree of the whole input
/// is ever held (docs/benchmarks.md, policy).
pub fn decide_input(policy: &Policy, input: crate::input::Input, opts: &EvalOptions) -> Result<Verdict, PolicyError> {
    let name = policy.name.clone();
    decide_with(policy, opts, move || {
        engine_input(input).map_err(|e| PolicyError::Eval {
            policy: name,
            rule: "(input)".into(),
            message: e.to_string(),
        })
    })
}

/// The input as engine values; see [`decide_input`].
fn engine_input(input: crate::input::Input) -> Result<Value, serde_json::Error> {
    let crate::input::Input { version, run, detected, stages, results, skipped, triage, sbom, summary } = input;
    let mut strings = Interner::default();
    let mut top = std::collections::BTreeMap::new();
    let mut put = |strings: &mut Interner, key: &str, value: Json| {
        let key = strings.string(key);
        let value = strings.value(value);
        top.insert(key, value);
    };
    put(&mut strings, "version", Json::from(version));
    put(&mut strings, "run", serde_json::to_value(run)?);
    put(&mut strings, "detected", serde_json::to_value(detected)?);
    put(&mut strings, "stages", serde_json::to_value(stages)?);
    put(&mut strings, "skipped", serde_json::to_value(skipped)?);
    put(&mut strings, "triage", serde_json::to_value(triage)?);
    put(&mut strings, "sbom", serde_json::to_value(sbom)?);
    put(&mut strings, "summary", serde_json::to_value(summary)?);
    let mut findings = Vec::with_capacity(results.len());
    for finding in results {
        findings.push(strings.value(serde_json::to_value(finding)?));
    }
    let key = strings.string("results");
    top.insert(key, Value::from(findings));
    Ok(Value::from(top))
}

/// Shares equal short strings between engine values (a finding's keys, stage, tool, rule,
/// severity and path repeat across thousands of findings).
#[derive(Default)]
struct Interner {
    seen: std::collections::HashSet<regorus::Rc<str>>,
}

impl Interner {
    /// Strings longer than this (messages) are rarely repeated: not worth a table entry.
    const MAX: usize = 160;

    fn string(&mut self, text: &str) -> Value {
        if text.len() > Self::MAX {
            return Value::from(text);
        }
        if let Some(rc) = self.seen.get(text) {
            return Value::String(regorus::Rc::clone(rc));
        }
        let rc: regorus::Rc<str> = regorus::Rc::from(text);
        self.seen.insert(regorus::Rc::clone(&rc));
        Value::String(rc)
    }

    fn value(&mut self, json: Json) -> Value {
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::from(b),
            Json::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
                (Some(u), _, _) => Value::from(u),
                (None, Some(i), _) => Value::from(i),
                (None, None, Some(f)) => Value::from(f),
                (None, None, None) => Value::Null,
            },
            Json::String(s) => self.string(&s),
            Json::Array(items) => Value::from(items.into_iter().map(|v| self.value(v)).collect::<Vec<_>>()),
            Json::Object(map) => {
                let mut out = std::collections::BTreeMap::new();
                for (k, v) in map {
                    let key = self.string(&k);
                    let value = self.value(v);
                    out.insert(key, value);
                }
                Value::from(out)
            }
        }
    }
}

/// [`decide`] over an input given as JSON text. The gate uses it for large inputs: the text is
/// parsed straight into the engine's values and dropped, so the input is never held as a
/// `serde_json::Value` tree and as engine values at once (1.4 GiB → see docs/benchmarks.md).
pub fn decide_text(policy: &Policy, input: String, opts: &EvalOptions) -> Result<Verdict, PolicyError> {
    let name = policy.name.clone();
    decide_with(policy, opts, move || {
        Value::from_json_str(&input).map_err(|e| PolicyError::Eval {
            policy: name,
            rule: "(input)".into(),
            message: e.to_string(),
        })
    })
}

fn decide_with(
    policy: &Policy,
    opts: &EvalOptions,
    input: impl FnOnce() -> Result<Value, PolicyError> + Send + 'static,
) -> Result<Verdict, PolicyError> {
    let policy = Arc::new(policy.clone());
    let p = Arc::clone(&policy);
    let o = *opts;
    let (denials, warnings) = with_deadline(&policy, opts, move || {
        let mut engine = engine(&p, &o)?;
        let decisions: Vec<(RuleRef, DecisionKind)> =
            policy::rules(&mut engine).into_iter().filter_map(|r| decision_kind(&r.name).map(|k| (r, k))).collect();
        if decisions.is_empty() {
            return Err(PolicyError::NoDecisionRules { policy: p.name.clone() });
        }
        engine.set_input(input()?);
        let mut denials = Vec::new();
        let mut warnings = Vec::new();
        for (rule, kind) in decisions {
            let query = rule.query();
            let value = engine.eval_rule(query.clone()).map_err(|e| eval_error(&p, &query, &o, &e))?;
            let reasons = reasons(&p, &rule, value)?;
            match kind {
                DecisionKind::Deny => denials.extend(reasons),
                DecisionKind::Warn => warnings.extend(reasons),
            }
        }
        Ok((denials, warnings))
    })?;
    Ok(Verdict::new(denials, warnings))
}

/// The messages of one decision rule: a set (or array) of strings or `{msg, …}` objects, or a
/// boolean (`deny if …`, one reason named after the rule). Undefined is no reason.
fn reasons(policy: &Policy, rule: &RuleRef, value: Value) -> Result<Vec<Reason>, PolicyError> {
    let bad = |found: String| PolicyError::BadDecision { policy: policy.name.clone(), rule: rule.query(), found };
    let json = match value {
        Value::Undefined => return Ok(Vec::new()),
        other => serde_json::to_value(&other).map_err(|e| bad(e.to_string()))?,
    };
    let items = match json {
        Json::Array(items) => items,
        Json::Bool(false) => return Ok(Vec::new()),
        Json::Bool(true) => vec![Json::String(rule.query())],
        Json::String(_) | Json::Object(_) => vec![json],
        other => return Err(bad(format!("{other}"))),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.push(Reason::from_json(&rule.query(), item).map_err(bad)?);
    }
    Ok(out)
}

/// Evaluates one rule (e.g. `data.sluice.constrained.required_stages`) as JSON; undefined is
/// `None`.
pub fn query(policy: &Policy, rule: &str, input: Json, opts: &EvalOptions) -> Result<Option<Json>, PolicyError> {
    let policy = Arc::new(policy.clone());
    let p = Arc::clone(&policy);
    let o = *opts;
    let rule = rule.to_owned();
    with_deadline(&policy, opts, move || {
        let mut engine = engine(&p, &o)?;
        engine.set_input(Value::from(input));
        match engine.eval_rule(rule.clone()) {
            Ok(Value::Undefined) => Ok(None),
            Ok(v) => serde_json::to_value(&v).map(Some).map_err(|e| PolicyError::Eval {
                policy: p.name.clone(),
                rule: rule.clone(),
                message: e.to_string(),
            }),
            // A rule the policy does not define is "no answer", not a failure.
            Err(e) if !policy::rules(&mut engine).iter().any(|r| r.query() == rule) => {
                let _ = e;
                Ok(None)
            }
            Err(e) => Err(eval_error(&p, &rule, &o, &e)),
        }
    })
}

/// Evaluates the rule `name` in every package that defines it and concatenates the results
/// (sets and arrays element by element, other values as one item): how `sluice plan` reads
/// `required_stages` from any policy.
pub fn collect(policy: &Policy, name: &str, input: Json, opts: &EvalOptions) -> Result<Vec<Json>, PolicyError> {
    let policy = Arc::new(policy.clone());
    let p = Arc::clone(&policy);
    let o = *opts;
    let name = name.to_owned();
    with_deadline(&policy, opts, move || {
        let mut engine = engine(&p, &o)?;
        engine.set_input(Value::from(input));
        let mut out = Vec::new();
        for rule in policy::rules(&mut engine).into_iter().filter(|r| r.name == name) {
            let query = rule.query();
            let value = engine.eval_rule(query.clone()).map_err(|e| eval_error(&p, &query, &o, &e))?;
            match serde_json::to_value(&value) {
                _ if value == Value::Undefined => {}
                Ok(Json::Array(items)) => out.extend(items),
                Ok(other) => out.push(other),
                Err(e) => {
                    return Err(PolicyError::Eval { policy: p.name.clone(), rule: query, message: e.to_string() })
                }
            }
        }
        Ok(out)
    })
}

/// The outcome of one Rego unit test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestOutcome {
    /// `data.<package>.<test_name>`.
    pub name: String,
    pub file: String,
    pub line: u32,
    pub status: TestStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestStatus {
    Pass,
    /// The rule was false or undefined.
    Fail,
    /// Evaluating it raised an error (or hit the time limit).
    Error(String),
}

/// Runs every `test_*` rule of the policy, like `opa test`: a test passes when it evaluates to
/// true. Tests run in path order; each gets the full time limit.
pub fn run_tests(policy: &Policy, opts: &EvalOptions) -> Result<Vec<TestOutcome>, PolicyError> {
    let policy = Arc::new(policy.clone());
    let p = Arc::clone(&policy);
    let o = *opts;
    let tests: Vec<RuleRef> = with_deadline(&policy, opts, move || {
        let mut engine = engine(&p, &o)?;
        Ok(policy::rules(&mut engine).into_iter().filter(|r| r.name.starts_with("test_")).collect())
    })?;
    let mut out = Vec::with_capacity(tests.len());
    for test in tests {
        let p = Arc::clone(&policy);
        let query = test.query();
        let q = query.clone();
        let status = match with_deadline(&policy, opts, move || {
            let mut engine = engine(&p, &o)?;
            engine.eval_rule(q.clone()).map_err(|e| eval_error(&p, &q, &o, &e))
        }) {
            Ok(Value::Bool(true)) => TestStatus::Pass,
            Ok(_) => TestStatus::Fail,
            Err(e) => TestStatus::Error(e.to_string()),
        };
        out.push(TestOutcome { name: query, file: test.file, line: test.line, status });
    }
    Ok(out)
}
