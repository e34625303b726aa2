//! A Metadata API deploy against the running org: the zip read within [`ZipLimits`], the
//! manifest and every component file checked ([`crate::wire::metadata`]), the destructive
//! manifests read ([`super::destroy`]), the components applied in the order a real org
//! applies them (`destructiveChangesPre.xml`; permission sets, connected apps, External
//! Client App headers, global OAuth settings, OAuth settings, OAuth policies, plugin
//! policies; the policies Salesforce generates; `destructiveChanges.xml` and
//! `destructiveChangesPost.xml`) with the org's rules ([`super::apply`]), and the outcome
//! recorded as a [`Record`] whose status moves Pending → InProgress → Succeeded /
//! SucceededPartial / Failed with the clock. `checkOnly` runs it all on a copy and keeps
//! nothing; with `rollbackOnError` (the default) a deploy with any failure changes nothing.
//! App changes take effect on the token endpoint `propagation_seconds` later; until then
//! the previous version (and certificate) answers.

use std::collections::HashSet;

use super::Org;
use super::apply::{self, Ctx};
use super::destroy;
use crate::emulator::config::{Config, GeneratedPolicies, record_id};
use crate::wire::metadata::{
    Component, DeployDetails, DeployMessage, DeployOptions, DeployResult, DeployStatus, DeployZip,
    Element, MetadataType, Package, Problem, ReadOptions, ZipLimits,
};

/// The newest API version a deploy may name.
const LATEST_API: u32 = crate::emulator::state::LATEST_API;

/// A deploy as kept for polling.
#[derive(Clone, Debug)]
pub(crate) struct Record {
    /// `0Af…`.
    pub(crate) id: String,
    pub(crate) created_ms: i64,
    pub(crate) done_ms: i64,
    pub(crate) options: DeployOptions,
    /// The outcome, as it reads once done.
    pub(crate) result: DeployResult,
}

impl Record {
    /// The deploy's state at `now_ms`, with details or without.
    pub(crate) fn at(&self, now_ms: i64, include_details: bool) -> DeployResult {
        let mut r = self.result.clone();
        if now_ms < self.done_ms {
            let half = self.created_ms + (self.done_ms - self.created_ms) / 2;
            r.status = if now_ms < half {
                DeployStatus::Pending
            } else {
                DeployStatus::InProgress
            };
            r.done = false;
            r.success = false;
            r.completed_date = None;
            r.number_components_deployed = 0;
            r.number_component_errors = 0;
            if r.status == DeployStatus::Pending {
                // Not yet counted (the value Salesforce reports then is not documented).
                r.number_components_total = 0;
            }
            r.start_date = (r.status == DeployStatus::InProgress)
                .then(|| r.created_date.clone())
                .flatten();
            r.state_detail = None;
            // While in progress only failures are reported: none yet.
            r.details = Some(DeployDetails::default());
        }
        if !include_details {
            r.details = None;
        }
        r
    }
}

/// RFC 3339 with milliseconds, as Salesforce writes dates.
pub(crate) fn date(ms: i64) -> String {
    let fmt = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".into())
}

/// Who deploys and when.
pub(crate) struct Request<'a> {
    pub(crate) zip: &'a [u8],
    pub(crate) options: DeployOptions,
    pub(crate) user: usize,
    pub(crate) now_ms: i64,
    pub(crate) limits: &'a ZipLimits,
}

struct Outcome {
    successes: Vec<DeployMessage>,
    failures: Vec<DeployMessage>,
    error: Option<String>,
}

/// Run a deploy: check and apply it (unless `checkOnly`, or a failure under
/// `rollbackOnError`), record it, and return its record.
pub(crate) fn start(org: &mut Org, req: Request<'_>) -> crate::Result<Record> {
    org.deploy_count += 1;
    let id = record_id(
        "0Af",
        usize::try_from(org.deploy_count).unwrap_or(usize::MAX),
    )?;
    let now = req.now_ms.div_euclid(1000);
    let mut scratch = org.cfg.clone();
    let outcome = run(&mut scratch, &org.cfg, &req, now);
    let check_only = req.options.check_only.unwrap_or(false);
    let rollback = req.options.rollback_on_error.unwrap_or(true);
    let failed = !outcome.failures.is_empty() || outcome.error.is_some();
    let applied = outcome.successes.len().saturating_sub(1);
    let status = match (failed, rollback) {
        (false, _) => DeployStatus::Succeeded,
        (true, true) => DeployStatus::Failed,
        (true, false) if applied > 0 => DeployStatus::SucceededPartial,
        (true, false) => DeployStatus::Failed,
    };
    let commit = !check_only
        && matches!(
            status,
            DeployStatus::Succeeded | DeployStatus::SucceededPartial
        );
    if commit {
        org.cfg = scratch;
        org.save()?;
    }
    let user = org.cfg.users.get(req.user);
    let done_ms = req
        .now_ms
        .saturating_add(i64::try_from(org.cfg.deploy_millis).unwrap_or(0));
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let deployed = if commit || (check_only && !failed) {
        applied
    } else {
        0
    };
    let result = DeployResult {
        id: id.clone(),
        canceled_by: None,
        canceled_by_name: None,
        check_only,
        completed_date: Some(date(done_ms)),
        created_by: user.map(|u| u.id.clone()),
        created_by_name: user.map(|u| u.name.clone()),
        created_date: Some(date(req.now_ms)),
        details: Some(DeployDetails {
            component_failures: outcome.failures.clone(),
            component_successes: if status == DeployStatus::Failed {
                Vec::new()
            } else {
                outcome.successes.clone()
            },
            run_test_result: Some(serde_json::json!({
                "numFailures": 0, "numTestsRun": 0, "totalTime": 0.0,
                "codeCoverage": [], "codeCoverageWarnings": [], "failures": [], "flowCoverage": [], "flowCoverageWarnings": [], "successes": []
            })),
        }),
        done: true,
        error_message: outcome.error.clone(),
        error_status_code: outcome
            .error
            .as_ref()
            .map(|_| "UNKNOWN_EXCEPTION".to_owned()),
        ignore_warnings: req.options.ignore_warnings.unwrap_or(false),
        last_modified_date: Some(date(done_ms)),
        number_component_errors: count(outcome.failures.len()),
        number_components_deployed: count(deployed),
        number_components_total: count(applied + outcome.failures.len()),
        number_test_errors: 0,
        number_tests_completed: 0,
        number_tests_total: 0,
        rollback_on_error: rollback,
        run_tests_enabled: false,
        start_date: Some(date(req.now_ms)),
        state_detail: None,
        status,
        success: matches!(status, DeployStatus::Succeeded),
    };
    let record = Record {
        id,
        created_ms: req.now_ms,
        done_ms,
        options: req.options,
        result,
    };
    if org.deploys.len() >= super::MAX_DEPLOYS {
        org.deploys.pop_front();
    }
    org.deploys.push_back(record.clone());
    Ok(record)
}

fn run(cfg: &mut Config, before: &Config, req: &Request<'_>, now: i64) -> Outcome {
    let mut out = Outcome {
        successes: Vec::new(),
        failures: Vec::new(),
        error: None,
    };
    let zip = match DeployZip::read(req.zip, req.limits) {
        Ok(z) => z,
        Err(p) => {
            out.error = Some(p.message);
            return out;
        }
    };
    let manifest_failure =
        |p: &Problem| DeployMessage::failure(None, "package.xml", "package.xml", p);
    let package = match Package::from_xml(&zip.package_xml) {
        Ok(p) => p,
        Err(p) => {
            out.failures.push(manifest_failure(&p));
            return out;
        }
    };
    let version = match package.api_major() {
        Some(v) if (20..=LATEST_API).contains(&v) => v,
        _ => {
            out.failures.push(manifest_failure(&Problem::new(format!(
                "Invalid version specified: {}",
                package.version
            ))));
            return out;
        }
    };
    out.successes.push(DeployMessage {
        changed: true,
        component_type: Some(String::new()),
        created_date: Some(date(req.now_ms)),
        file_name: Some("package.xml".into()),
        full_name: Some("package.xml".into()),
        success: true,
        ..DeployMessage::default()
    });
    let files = files(&zip, &package, version, req, &mut out);
    let mut plan = destroy::plan(zip.destructive(), &mut out.failures);
    let mut ctx = Ctx {
        before,
        now,
        now_ms: req.now_ms,
        by: before
            .users
            .get(req.user)
            .map(|u| u.id.clone())
            .unwrap_or_default(),
        user: req.user,
        opts: ReadOptions {
            api_version: Some(version),
            out_of_order: cfg.out_of_order,
        },
        touched: HashSet::new(),
    };
    let ignore_warnings = req.options.ignore_warnings.unwrap_or(false);
    destroy::apply(
        cfg,
        &mut ctx,
        &mut plan,
        true,
        ignore_warnings,
        &mut out.successes,
        &mut out.failures,
    );
    for (kind, name, file, bytes) in files {
        match component(cfg, &mut ctx, kind, &name, bytes) {
            Ok(created) => out.successes.push(DeployMessage {
                changed: true,
                component_type: Some(kind.name().to_owned()),
                created,
                created_date: Some(date(req.now_ms)),
                file_name: Some(file),
                full_name: Some(name),
                success: true,
                ..DeployMessage::default()
            }),
            Err(p) => {
                out.failures
                    .push(DeployMessage::failure(Some(kind.name()), &name, &file, &p))
            }
        }
    }
    if cfg.generated_policies == GeneratedPolicies::AfterDeploy
        && let Err(p) = apply::generate_after_deploy(cfg, &mut ctx)
    {
        out.error = Some(p.message);
    }
    destroy::apply(
        cfg,
        &mut ctx,
        &mut plan,
        false,
        ignore_warnings,
        &mut out.successes,
        &mut out.failures,
    );
    out
}

/// One component file: checked against its type's schema, then applied.
fn component(
    cfg: &mut Config,
    ctx: &mut Ctx<'_>,
    kind: MetadataType,
    name: &str,
    bytes: &[u8],
) -> Result<bool, Problem> {
    crate::wire::metadata::check_full_name(name)?;
    let c = Component::from_xml(kind, bytes, &ctx.opts)?;
    let tree = Element::parse(bytes)?;
    match &c {
        Component::PermissionSet(ps) => apply::permission_set(cfg, ps, name),
        Component::ConnectedApp(ca) => apply::connected_app(cfg, ctx, ca, name, tree),
        Component::ExternalClientApplication(_) => apply::header(cfg, ctx, name, tree),
        _ => apply::part(cfg, ctx, &c, name, tree),
    }
}

/// The component files a manifest names, in the order a deploy applies their types:
/// (type, full name, file name, bytes). What cannot be found fails as a manifest problem.
fn files<'z>(
    zip: &'z DeployZip,
    package: &Package,
    version: u32,
    req: &Request<'_>,
    out: &mut Outcome,
) -> Vec<(MetadataType, String, String, &'z [u8])> {
    let manifest_failure =
        |p: &Problem| DeployMessage::failure(None, "package.xml", "package.xml", p);
    let mut files: Vec<(MetadataType, String, String, &[u8])> = Vec::new();
    for t in &package.types {
        let Some(kind) = MetadataType::from_name(t.name.trim()) else {
            let mut m = manifest_failure(&Problem::new(format!(
                "Unknown type name '{}' specified in package.xml",
                t.name.trim()
            )));
            m.component_type = Some(t.name.trim().to_owned());
            out.failures.push(m);
            continue;
        };
        if kind.since() > version {
            out.failures.push(manifest_failure(&Problem::new(format!(
                "Cannot use: {kind} in this version"
            ))));
            continue;
        }
        for member in &t.members {
            let member = member.trim();
            if member == "*" {
                for (name, f) in zip.all_of(kind) {
                    files.push((kind, name, f.path.clone(), &f.bytes));
                }
                continue;
            }
            match zip.find(kind, member) {
                Some(f) => files.push((kind, member.to_owned(), f.path.clone(), &f.bytes)),
                None if req.options.allow_missing_files.unwrap_or(false) => {}
                None => out.failures.push(DeployMessage::failure(
                    Some(kind.name()),
                    member,
                    "package.xml",
                    &Problem::new(format!(
                        "An object '{member}' of type {kind} was named in package.xml, but was not found in zipped directory"
                    )),
                )),
            }
        }
    }
    // Permission sets first, then connected apps, then External Client App headers, then
    // their parts in the order: global OAuth settings, OAuth settings, OAuth policies,
    // plugin policies (`MetadataType::ALL`'s order).
    let rank = |k: MetadataType| MetadataType::ALL.iter().position(|t| *t == k).unwrap_or(0);
    files.sort_by_key(|(k, ..)| match k {
        MetadataType::PermissionSet => 0,
        other => rank(*other) + 1,
    });
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::metadata::{DeployPackage, ExternalClientApplication};

    fn org(extra: &str) -> Org {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let toml = format!(
            "[emulator]\ndeploy_millis = 0\n{extra}\n[[apps]]\nname = \"console\"\nconsumer_key = \"CONSOLE\"\nexternal_client_app = true\n[[users]]\nusername = \"admin@example.com\"\n"
        );
        let cfg = Config::from_toml(&toml, &mut |p| std::fs::read(fixtures.join(p))).unwrap();
        Org::new(cfg, None)
    }

    fn eca_zip(cert: &str) -> Vec<u8> {
        let mut p = DeployPackage::new(62);
        p.add(
            "app",
            &Component::ExternalClientApplication(ExternalClientApplication {
                contact_email: "a@example.com".into(),
                label: "app".into(),
                ..Default::default()
            }),
        )
        .unwrap();
        p.add(
            "app_glbl",
            &Component::ExtlClntAppGlobalOauthSettings(
                crate::wire::metadata::ExtlClntAppGlobalOauthSettings {
                    certificate: Some(cert.to_owned()),
                    consumer_key: Some("AppKey0123456789".into()),
                    external_client_application: "app".into(),
                    ..Default::default()
                },
            ),
        )
        .unwrap();
        p.to_zip().unwrap()
    }

    fn deploy(org: &mut Org, zip: &[u8]) -> DeployStatus {
        let limits = ZipLimits::default();
        start(
            org,
            Request {
                zip,
                options: DeployOptions::default(),
                user: 0,
                now_ms: 1_800_000_000_000,
                limits: &limits,
            },
        )
        .unwrap()
        .result
        .status
    }

    #[test]
    fn a_refused_certificate_deploys_but_never_verifies() {
        let pem = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/certs/base.crt"),
        )
        .unwrap();
        let sha1 = crate::x509::parse(pem.as_bytes()).unwrap().sha1;
        // Accepted and verifying by default.
        let mut o = org("");
        assert_eq!(deploy(&mut o, &eca_zip(&pem)), DeployStatus::Succeeded);
        assert!(o.cfg.apps[1].verifier.is_some());
        // Refused: recorded, but nothing verifies (written in any case, colons or not).
        for listed in [sha1.clone(), sha1.replace(':', "").to_ascii_lowercase()] {
            let mut o = org(&format!("refused_certificates = [\"{listed}\"]"));
            assert_eq!(o.cfg.refused_certificates.len(), 1);
            assert_eq!(deploy(&mut o, &eca_zip(&pem)), DeployStatus::Succeeded);
            let app = &o.cfg.apps[1];
            assert!(app.verifier.is_none(), "{listed}");
            assert_eq!(app.cert_sha1, sha1);
            assert!(app.certificate_pem.contains("BEGIN CERTIFICATE"));
            // And a restart from the state file keeps refusing it.
            let state = o.cfg.state_toml().unwrap();
            let back = o.cfg.with_state(&state).unwrap();
            assert!(back.apps[1].verifier.is_none());
        }
        let mut read = |_: &std::path::Path| -> std::io::Result<Vec<u8>> { Ok(Vec::new()) };
        let e = Config::from_toml(
            "[emulator]\nrefused_certificates = [\"F4:67\"]\n[[apps]]\nconsumer_key = \"K\"\nexternal_client_app = true\n[[users]]\nusername = \"u@example.com\"\n",
            &mut read,
        )
        .unwrap_err();
        assert!(e.to_string().contains("not a SHA-1 fingerprint"), "{e}");
    }
}
