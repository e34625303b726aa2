//! A Metadata API deploy against the running org: the zip read within [`ZipLimits`], the
//! manifest and every component file checked ([`crate::wire::metadata`]), the org's rules
//! applied (the consumer key set once, in its format, globally unique; connected app
//! creation refused unless allowed; pre-authorized profiles and permission sets that exist
//! and, for a connected app, `isAdminApproved`; External Client App parts linked to their
//! header), and the outcome recorded as a [`Record`] whose status moves Pending →
//! InProgress → Succeeded / SucceededPartial / Failed with the clock. `checkOnly` changes
//! nothing; with `rollbackOnError` (the default) a deploy with any failure changes nothing.
//! App changes take effect on the token endpoint `propagation_seconds` later; until then
//! the previous version (and certificate) answers.

use std::collections::HashSet;

use super::{MAX_APPS, MAX_PERMISSION_SETS, Org};
use crate::emulator::config::{
    App, Config, KeyChange, PermissionSetRecord, PermittedUsers, record_id,
};
use crate::jwt::Verifier;
use crate::wire::metadata::{
    Component, DeployDetails, DeployMessage, DeployOptions, DeployResult, DeployStatus, DeployZip,
    MetadataType, OauthScope, Package, PermittedUsersPolicyType, Problem, ReadOptions, ZipLimits,
    check_consumer_key,
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
    let outcome = run(&mut scratch, &req, now);
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

fn run(cfg: &mut Config, req: &Request<'_>, now: i64) -> Outcome {
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
    // (type, full name, file name, bytes)
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
    // Permission sets first, then apps, then the parts of External Client Apps.
    let rank = |k: MetadataType| MetadataType::ALL.iter().position(|t| *t == k).unwrap_or(0);
    files.sort_by_key(|(k, ..)| match k {
        MetadataType::PermissionSet => 0,
        other => rank(*other) + 1,
    });
    let opts = ReadOptions {
        api_version: Some(version),
        out_of_order: cfg.out_of_order,
    };
    let mut touched = HashSet::new();
    for (kind, name, file, bytes) in files {
        let result = crate::wire::metadata::check_full_name(&name)
            .and_then(|()| Component::from_xml(kind, bytes, &opts))
            .and_then(|c| {
                apply(
                    cfg,
                    &c,
                    &name,
                    now,
                    &mut touched,
                    req.options.ignore_warnings.unwrap_or(false),
                )
            });
        match result {
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
    out
}

/// A certificate as a connected app or ECA holds it: armored PEM or its bare base64 body.
fn certificate(text: &str) -> Result<(Verifier, String, String), Problem> {
    let bad = || Problem::new("The certificate is not a valid PEM-encoded X.509 certificate.");
    let bytes = if text.contains("-----BEGIN") {
        text.as_bytes().to_vec()
    } else {
        use base64::Engine as _;
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|_| bad())?
    };
    let cert = crate::x509::parse(&bytes).map_err(|_| bad())?;
    let verifier = Verifier::from_spki(&cert.spki).map_err(|_| {
        Problem::new("The certificate's key is not an RSA key of a size Salesforce accepts.")
    })?;
    Ok((verifier, crate::x509::to_pem(&cert.der), cert.sha1))
}

/// True when the emulator is configured to let `cert` never take
/// (`refused_certificates`): it is stored, and verifies nothing.
fn refused(cfg: &Config, cert: Option<&(Verifier, String, String)>) -> bool {
    cert.is_some_and(|(_, _, sha1)| {
        let k = crate::emulator::config::fingerprint_key(sha1);
        cfg.refused_certificates.contains(&k)
    })
}

/// Give `app` the deployed certificate (or none); a certificate the configuration lists
/// as refused is kept on the app but verifies nothing.
fn set_certificate(app: &mut App, cert: Option<(Verifier, String, String)>, refused: bool) {
    match cert {
        Some((v, pem, sha1)) => {
            app.verifier = (!refused).then_some(v);
            app.certificate_pem = pem;
            app.cert_sha1 = sha1;
        }
        None => {
            app.verifier = None;
            app.certificate_pem.clear();
            app.cert_sha1.clear();
        }
    }
}

fn new_consumer_key() -> Result<String, Problem> {
    use ring::rand::SecureRandom as _;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 80];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Problem::new("the emulator's random number generator failed"))?;
    let mut key = String::from("3MVG9");
    key.extend(
        bytes
            .iter()
            .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])),
    );
    Ok(key)
}

/// Check a consumer key chosen at creation: format, then global uniqueness.
fn chosen_key(cfg: &Config, key: &str) -> Result<String, Problem> {
    check_consumer_key(key)?;
    let taken = cfg.apps.iter().any(|a| {
        let mut v = Some(a);
        while let Some(x) = v {
            if x.consumer_key == key {
                return true;
            }
            v = x.previous.as_deref();
        }
        false
    });
    if taken {
        return Err(Problem::new("The consumer key is already taken."));
    }
    Ok(key.to_owned())
}

fn check_profiles(cfg: &Config, names: &[String]) -> Result<(), Problem> {
    for n in names {
        if cfg.profile_by_name(n).is_none() {
            return Err(Problem::new(format!(
                "In field: profileName - no Profile named {n} found"
            )));
        }
    }
    Ok(())
}

fn check_permission_sets(cfg: &Config, names: &[String]) -> Result<(), Problem> {
    for n in names {
        if cfg.permission_set_by_name(n).is_none() {
            return Err(Problem::new(format!(
                "In field: permissionSetName - no PermissionSet named {n} found"
            )));
        }
    }
    Ok(())
}

fn token_scopes(scopes: &[OauthScope]) -> String {
    let mut out: Vec<&str> = Vec::new();
    for s in scopes {
        let n = s.token_name();
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out.join(" ")
}

/// The version of app `ix` a deploy changes: on the first change in this deploy a new
/// version taking effect after the propagation delay, the one in force kept as previous.
fn version_to_change<'a>(
    cfg: &'a mut Config,
    ix: usize,
    now: i64,
    touched: &mut HashSet<usize>,
) -> &'a mut App {
    let effective = now.saturating_add(i64::try_from(cfg.propagation_seconds).unwrap_or(0));
    let app = &mut cfg.apps[ix];
    if touched.insert(ix) {
        let in_force = app.at(now).map(|a| {
            let mut a = a.clone();
            a.previous = None;
            Box::new(a)
        });
        app.previous = in_force;
        app.effective_from = effective;
    }
    app
}

fn new_app(cfg: &Config, name: &str, eca: bool, now: i64) -> Result<App, Problem> {
    if cfg.apps.len() >= MAX_APPS {
        return Err(Problem::new(format!(
            "the emulator holds at most {MAX_APPS} apps"
        )));
    }
    Ok(App {
        name: name.to_owned(),
        id: record_id("0H4", cfg.apps.len() + 1).map_err(|e| Problem::new(e.to_string()))?,
        consumer_key: String::new(),
        verifier: None,
        certificate_pem: String::new(),
        cert_sha1: String::new(),
        profiles: Vec::new(),
        permission_sets: Vec::new(),
        enabled: true,
        effective_from: now.saturating_add(i64::try_from(cfg.propagation_seconds).unwrap_or(0)),
        previous: None,
        permitted_users: PermittedUsers::SelfAuthorize,
        external_client_app: eca,
        installed: true,
        scopes: String::new(),
    })
}

/// Apply one checked component to the scratch org; `Ok(true)` when it was created.
fn apply(
    cfg: &mut Config,
    c: &Component,
    name: &str,
    now: i64,
    touched: &mut HashSet<usize>,
    ignore_warnings: bool,
) -> Result<bool, Problem> {
    let _ = ignore_warnings;
    match c {
        Component::PermissionSet(ps) => {
            let modify = ps.user_permissions.iter().any(|p| {
                p.enabled && matches!(p.name.as_str(), "ModifyAllData" | "ModifyMetadata")
            });
            if let Some(i) = cfg.permission_sets.iter().position(|p| p.name == name) {
                cfg.permission_sets[i].label = ps.label.clone();
                cfg.permission_sets[i].modify_metadata = modify;
                return Ok(false);
            }
            if cfg.permission_sets.len() >= MAX_PERMISSION_SETS {
                return Err(Problem::new(format!(
                    "the emulator holds at most {MAX_PERMISSION_SETS} permission sets"
                )));
            }
            cfg.permission_sets.push(PermissionSetRecord {
                id: record_id("0PS", cfg.permission_sets.len() + 1)
                    .map_err(|e| Problem::new(e.to_string()))?,
                name: name.to_owned(),
                label: ps.label.clone(),
                modify_metadata: modify,
            });
            Ok(true)
        }
        Component::ConnectedApp(ca) => {
            let oc = ca.oauth_config.as_ref();
            let admin = oc.and_then(|o| o.is_admin_approved).unwrap_or(false);
            if (!ca.profile_name.is_empty() || !ca.permission_set_name.is_empty()) && !admin {
                return Err(Problem::new(
                    "To use profileName or permissionSetName, the isAdminApproved field must be set to true.",
                ));
            }
            check_profiles(cfg, &ca.profile_name)?;
            check_permission_sets(cfg, &ca.permission_set_name)?;
            let cert = match oc.and_then(|o| o.certificate.as_deref()) {
                Some(t) if !t.trim().is_empty() => Some(certificate(t)?),
                _ => None,
            };
            let given = oc.and_then(|o| o.consumer_key.as_deref()).map(str::trim);
            let existing = cfg
                .apps
                .iter()
                .position(|a| a.name == name && !a.external_client_app);
            let created = existing.is_none();
            let ix = match existing {
                Some(ix) => {
                    if given.is_some_and(|k| k != cfg.apps[ix].consumer_key) {
                        return Err(Problem::new("You cannot provide a Consumer Key"));
                    }
                    ix
                }
                None => {
                    if !cfg.allow_connected_app_creation {
                        return Err(Problem::new(
                            "You can't create a connected app. To enable connected app creation, contact Salesforce Customer Support.",
                        ));
                    }
                    let key = match given {
                        Some(k) => chosen_key(cfg, k)?,
                        None => new_consumer_key()?,
                    };
                    let mut app = new_app(cfg, name, false, now)?;
                    app.consumer_key = key;
                    cfg.apps.push(app);
                    touched.insert(cfg.apps.len() - 1);
                    cfg.apps.len() - 1
                }
            };
            let refused = refused(cfg, cert.as_ref());
            let app = version_to_change(cfg, ix, now, touched);
            set_certificate(app, cert, refused);
            app.scopes = token_scopes(oc.map_or(&[][..], |o| &o.scopes));
            app.permitted_users = if admin {
                PermittedUsers::AdminApproved
            } else {
                PermittedUsers::SelfAuthorize
            };
            app.profiles = ca.profile_name.clone();
            app.permission_sets = ca.permission_set_name.clone();
            Ok(created)
        }
        Component::ExternalClientApplication(_) => {
            if cfg
                .apps
                .iter()
                .any(|a| a.name == name && a.external_client_app)
            {
                return Ok(false);
            }
            if cfg.apps.iter().any(|a| a.name == name) {
                return Err(Problem::new(format!("An app named {name} already exists.")));
            }
            let app = new_app(cfg, name, true, now)?;
            cfg.apps.push(app);
            touched.insert(cfg.apps.len() - 1);
            Ok(true)
        }
        part => {
            let parent = part.external_client_application().unwrap_or("").trim();
            if parent.is_empty() {
                return Err(Problem::new(
                    "Enter the name of the parent external client app",
                ));
            }
            let Some(ix) = cfg
                .apps
                .iter()
                .position(|a| a.name == parent && a.external_client_app)
            else {
                return Err(Problem::new(format!(
                    "In field: externalClientApplication - no ExternalClientApplication named {parent} found"
                )));
            };
            let key_change = cfg.eca_consumer_key_change;
            match part {
                Component::ExtlClntAppGlobalOauthSettings(g) => {
                    let cert = match g.certificate.as_deref() {
                        Some(t) if !t.trim().is_empty() => Some(certificate(t)?),
                        _ => None,
                    };
                    let current = cfg.apps[ix].consumer_key.clone();
                    let given = g
                        .consumer_key
                        .as_deref()
                        .map(str::trim)
                        .filter(|k| !k.is_empty());
                    let key = match (current.is_empty(), given) {
                        (true, Some(k)) => chosen_key(cfg, k)?,
                        (true, None) => new_consumer_key()?,
                        (false, Some(k)) if k != current && key_change == KeyChange::Error => {
                            return Err(Problem::new("You cannot provide a Consumer Key"));
                        }
                        (false, _) => current,
                    };
                    let refused = refused(cfg, cert.as_ref());
                    let app = version_to_change(cfg, ix, now, touched);
                    app.consumer_key = key;
                    set_certificate(app, cert, refused);
                }
                Component::ExtlClntAppOauthSettings(o) => {
                    let app = version_to_change(cfg, ix, now, touched);
                    app.scopes = token_scopes(&o.comma_separated_oauth_scopes);
                }
                Component::ExtlClntAppOauthConfigurablePolicies(p) => {
                    check_profiles(cfg, &p.comma_separated_profile)?;
                    check_permission_sets(cfg, &p.comma_separated_permission_set)?;
                    let app = version_to_change(cfg, ix, now, touched);
                    app.permitted_users = match p.permitted_users_policy_type {
                        Some(PermittedUsersPolicyType::AdminApprovedPreAuthorized) => {
                            PermittedUsers::AdminApproved
                        }
                        _ => PermittedUsers::SelfAuthorize,
                    };
                    app.profiles = p.comma_separated_profile.clone();
                    app.permission_sets = p.comma_separated_permission_set.clone();
                }
                Component::ExtlClntAppConfigurablePolicies(p) => {
                    let app = version_to_change(cfg, ix, now, touched);
                    app.enabled = p.is_enabled && p.is_oauth_plugin_enabled.unwrap_or(true);
                }
                _ => {}
            }
            Ok(false)
        }
    }
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
