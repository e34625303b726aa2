//! One deployed component applied to the scratch copy of the org, as a real org applies
//! it: the stored file replaced by the deployed one (a deploy is declarative: what the
//! file leaves out takes its default), with the exceptions a real org makes, and the
//! token endpoint's view re-derived from the files ([`stored::view_of`]).
//!
//! - A permission set: its label and user permissions.
//! - A connected app: a new one only when `allow_connected_app_creation`; the consumer key
//!   chosen at creation (8 to 256 alphanumerics, globally unique), immutable after it, kept
//!   when the file leaves it out; `profileName` and `permissionSetName` left out are kept
//!   and an explicit empty one removes them all (the ConnectedApp reference); an omitted
//!   certificate clears it (`omitted_certificate`); the lists need `isAdminApproved`.
//! - An External Client App's header, and its four parts: one of each kind per app (a
//!   part of a kind the app has under another name fails with `duplicate value found:
//!   ExternalClientApplicationId duplicates value on record with id: <the part's id>`),
//!   Salesforce's generated policies (`generated_policies`), the consumer key only when
//!   the global OAuth settings are created (`eca_consumer_key_on_update`).
//! - Referenced permission sets existing before the deploy (`permission_sets_must_preexist`)
//!   and, for an ECA OAuth policy, assigned to the deployer
//!   (`permission_sets_assigned_to_deployer`).
//!
//! Each function checks everything before it changes anything, so a failed component
//! leaves the scratch org as it was (what `rollbackOnError: false` needs).

use std::collections::HashSet;

use super::{MAX_APPS, MAX_PERMISSION_SETS};
use crate::emulator::config::stored::{
    self, AppMeta, EcaMeta, HEADER_PREFIX, MAX_COMPONENT_BYTES, MAX_METADATA_BYTES, PART_PREFIXES,
    Stored, part_slot,
};
use crate::emulator::config::{
    App, Config, EcaKeyOnUpdate, GeneratedPolicies, OmittedCertificate, Permission,
    PermissionSetRecord, Permissions, PermittedUsers, fingerprint_key, record_id,
};
use crate::jwt::Verifier;
use crate::wire::metadata::eca::{default_oauth_policy_name, default_plugin_policy_name};
use crate::wire::metadata::{
    Component, Element, MetadataType, OutOfOrder, Problem, ReadOptions, check_consumer_key,
    check_eca_consumer_key,
};

/// What every component of one deploy is applied with.
pub(super) struct Ctx<'a> {
    /// The org as it was before the deploy started.
    pub(super) before: &'a Config,
    /// Seconds since the epoch.
    pub(super) now: i64,
    /// Milliseconds since the epoch.
    pub(super) now_ms: i64,
    /// The deploying user's id.
    pub(super) by: String,
    /// The deploying user's index (in `before`).
    pub(super) user: usize,
    /// How the deploy reads files.
    pub(super) opts: ReadOptions,
    /// Apps changed by this deploy (indexes into the scratch org).
    pub(super) touched: HashSet<usize>,
}

/// A certificate as a connected app or ECA holds it: armored PEM or its bare base64 body.
pub(super) fn certificate(text: &str) -> Result<(Verifier, String, String), Problem> {
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

/// Re-derive app `app`'s view from its files. A certificate the configuration lists as
/// refused (`refused_certificates`) is kept on the app but verifies nothing.
pub(super) fn refresh(app: &mut App, refused: &[String], out_of_order: OutOfOrder) {
    let Some(meta) = &app.meta else {
        return;
    };
    let v = stored::view_of(meta, out_of_order);
    app.consumer_key = v.consumer_key;
    match v.certificate.as_deref().map(certificate) {
        Some(Ok((verifier, pem, sha1))) => {
            app.verifier = (!refused.contains(&fingerprint_key(&sha1))).then_some(verifier);
            app.certificate_pem = pem;
            app.cert_sha1 = sha1;
        }
        _ => {
            app.verifier = None;
            app.certificate_pem.clear();
            app.cert_sha1.clear();
        }
    }
    app.scopes = v.scopes;
    app.permitted_users = v.permitted_users;
    app.profiles = v.profiles;
    app.permission_sets = v.permission_sets;
    app.enabled = v.enabled;
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

/// Check a consumer key chosen at creation: format (a connected app's rule, or for an
/// External Client App the looser one no source contradicts), then global uniqueness.
fn chosen_key(cfg: &Config, key: &str, eca: bool) -> Result<String, Problem> {
    if eca {
        check_eca_consumer_key(key)?;
    } else {
        check_consumer_key(key)?;
    }
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

/// The next record id with `prefix`: one more than the highest in use (ids are never
/// given twice to records that exist at once).
pub(super) fn next_id(cfg: &Config, prefix: &str) -> Result<String, Problem> {
    let mut max = 0usize;
    let mut see = |id: &str| {
        if id.starts_with(prefix)
            && let Some(n) = stored::serial_of(id)
        {
            max = max.max(n);
        }
    };
    for a in &cfg.apps {
        see(&a.id);
        if let Some(m) = &a.meta {
            for s in m.components() {
                see(&s.id);
            }
        }
    }
    for p in &cfg.permission_sets {
        see(&p.id);
    }
    record_id(prefix, max + 1).map_err(|e| Problem::new(e.to_string()))
}

/// The version of app `ix` a deploy changes: on the first change in this deploy a new
/// version taking effect after the propagation delay, the one in force kept as previous
/// (without its files).
pub(super) fn version_to_change<'a>(
    cfg: &'a mut Config,
    ix: usize,
    ctx: &mut Ctx<'_>,
) -> &'a mut App {
    let effective = ctx
        .now
        .saturating_add(i64::try_from(cfg.propagation_seconds).unwrap_or(0));
    let now = ctx.now;
    let app = &mut cfg.apps[ix];
    if ctx.touched.insert(ix) {
        let in_force = app.at(now).map(|a| {
            let mut a = a.clone();
            a.previous = None;
            a.meta = None;
            Box::new(a)
        });
        app.previous = in_force;
        app.effective_from = effective;
    }
    app
}

/// Refuse a new app past [`MAX_APPS`].
fn room_for_an_app(cfg: &Config) -> Result<(), Problem> {
    if cfg.apps.len() >= MAX_APPS {
        return Err(Problem::new(format!(
            "the emulator holds at most {MAX_APPS} apps"
        )));
    }
    Ok(())
}

fn new_app(cfg: &Config, name: &str, id: String, eca: bool, ctx: &Ctx<'_>, meta: AppMeta) -> App {
    App {
        name: name.to_owned(),
        id,
        consumer_key: String::new(),
        verifier: None,
        certificate_pem: String::new(),
        cert_sha1: String::new(),
        profiles: Vec::new(),
        permission_sets: Vec::new(),
        enabled: true,
        effective_from: ctx
            .now
            .saturating_add(i64::try_from(cfg.propagation_seconds).unwrap_or(0)),
        previous: None,
        permitted_users: PermittedUsers::SelfAuthorize,
        external_client_app: eca,
        installed: true,
        scopes: String::new(),
        meta: Some(meta),
    }
}

/// A tree as the org keeps it: without `fullName` (the record's name says it), within
/// [`MAX_COMPONENT_BYTES`], and within [`MAX_METADATA_BYTES`] for the whole org when it
/// replaces a file of `replaced` bytes.
fn kept_file(cfg: &Config, tree: &mut Element, replaced: usize) -> Result<String, Problem> {
    tree.remove(&["fullName"]);
    let file = tree.to_file();
    if file.len() > MAX_COMPONENT_BYTES {
        // The emulator's own limit.
        return Err(Problem::new(format!(
            "the emulator keeps component files of at most {MAX_COMPONENT_BYTES} bytes"
        )));
    }
    let kept: usize = cfg
        .apps
        .iter()
        .filter_map(|a| a.meta.as_ref())
        .map(AppMeta::bytes)
        .sum();
    if kept.saturating_sub(replaced) + file.len() > MAX_METADATA_BYTES {
        return Err(Problem::new(format!(
            "the emulator keeps at most {MAX_METADATA_BYTES} bytes of component files"
        )));
    }
    Ok(file)
}

fn record(
    kind: MetadataType,
    name: &str,
    id: String,
    file: String,
    old: Option<&Stored>,
    ctx: &Ctx<'_>,
) -> Stored {
    Stored {
        type_name: kind.name().to_owned(),
        name: old.map_or_else(|| name.to_owned(), |o| o.name.clone()),
        id,
        file,
        created_ms: old.map_or(ctx.now_ms, |o| o.created_ms),
        modified_ms: ctx.now_ms,
        by: ctx.by.clone(),
    }
}

fn set(
    tree: &mut Element,
    kind: MetadataType,
    path: &[&str],
    values: &[&str],
) -> Result<(), Problem> {
    tree.set(kind, path, values)
}

/// Profiles named by a component that the org does not have.
fn check_profiles(cfg: &Config, field: &str, names: &[String]) -> Result<(), Problem> {
    for n in names {
        if cfg.profile_by_name(n).is_none() {
            // The emulator's wording.
            return Err(Problem::new(format!(
                "In field: {field} - no Profile named {n} found"
            )));
        }
    }
    Ok(())
}

/// Permission sets named by a component: in the org before the deploy when
/// `permission_sets_must_preexist` (one the same deploy creates does not count), else in
/// the scratch org.
fn check_permission_sets(
    scratch: &Config,
    ctx: &Ctx<'_>,
    field: &str,
    names: &[String],
) -> Result<(), Problem> {
    let org = if scratch.permission_sets_must_preexist {
        ctx.before
    } else {
        scratch
    };
    for n in names {
        if org.permission_set_by_name(n).is_none() {
            // The emulator's wording (the real text is not known).
            return Err(Problem::new(format!(
                "In field: {field} - no PermissionSet named {n} found"
            )));
        }
    }
    Ok(())
}

/// `PermissionSet`: label and user permissions (those the emulator models).
pub(super) fn permission_set(
    cfg: &mut Config,
    ps: &crate::wire::metadata::PermissionSet,
    name: &str,
) -> Result<bool, Problem> {
    let permissions = ps
        .user_permissions
        .iter()
        .filter(|p| p.enabled)
        .filter_map(|p| Permission::from_name(&p.name))
        .fold(Permissions::NONE, Permissions::with);
    if let Some(i) = cfg
        .permission_sets
        .iter()
        .position(|p| p.namespace.is_none() && p.name.eq_ignore_ascii_case(name))
    {
        cfg.permission_sets[i].label = ps.label.clone();
        cfg.permission_sets[i].permissions = permissions;
        return Ok(false);
    }
    if cfg.permission_sets.len() >= MAX_PERMISSION_SETS {
        return Err(Problem::new(format!(
            "the emulator holds at most {MAX_PERMISSION_SETS} permission sets"
        )));
    }
    let id = next_id(cfg, "0PS")?;
    cfg.permission_sets.push(PermissionSetRecord {
        id,
        namespace: None,
        name: name.to_owned(),
        label: ps.label.clone(),
        permissions,
    });
    Ok(true)
}

const LISTS: [&str; 2] = ["profileName", "permissionSetName"];

/// `ConnectedApp`.
pub(super) fn connected_app(
    cfg: &mut Config,
    ctx: &mut Ctx<'_>,
    ca: &crate::wire::metadata::ConnectedApp,
    name: &str,
    mut tree: Element,
) -> Result<bool, Problem> {
    let kind = MetadataType::ConnectedApp;
    tree.remove(&["oauthConfig", "consumerSecret"]);
    let given = ca
        .oauth_config
        .as_ref()
        .and_then(|o| o.consumer_key.as_deref())
        .map(str::trim)
        .filter(|k| !k.is_empty());
    let existing = cfg
        .apps
        .iter()
        .position(|a| a.name == name && !a.external_client_app);
    let old = existing.and_then(|ix| match &cfg.apps[ix].meta {
        Some(AppMeta::Connected(s)) => s.tree(),
        _ => None,
    });
    let has_oauth = tree.child("oauthConfig").is_some();
    let key = match existing {
        Some(ix) => {
            let current = cfg.apps[ix].consumer_key.clone();
            if given.is_some_and(|k| k != current) {
                return Err(Problem::new("You cannot provide a Consumer Key"));
            }
            current
        }
        None => {
            if !cfg.allow_connected_app_creation {
                return Err(Problem::new(
                    "You can't create a connected app. To enable connected app creation, contact Salesforce Customer Support.",
                ));
            }
            match given {
                Some(k) => chosen_key(cfg, k, false)?,
                None => new_consumer_key()?,
            }
        }
    };
    // The lists: left out, kept; given, as given, an explicit empty element removing them.
    for list in LISTS {
        let given: Vec<String> = tree
            .texts_at(&[list])
            .into_iter()
            .map(str::to_owned)
            .collect();
        let values: Vec<String> = if given.is_empty() {
            old.as_ref()
                .map(|o| o.texts_at(&[list]).into_iter().map(str::to_owned).collect())
                .unwrap_or_default()
        } else {
            given.into_iter().filter(|v| !v.is_empty()).collect()
        };
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        set(&mut tree, kind, &[list], &refs)?;
    }
    if has_oauth {
        set(&mut tree, kind, &["oauthConfig", "consumerKey"], &[&key])?;
        let no_cert = tree
            .text_at(&["oauthConfig", "certificate"])
            .is_none_or(str::is_empty);
        if no_cert
            && cfg.omitted_certificate == OmittedCertificate::Keeps
            && let Some(c) = old
                .as_ref()
                .and_then(|o| o.text_at(&["oauthConfig", "certificate"]))
            && !c.is_empty()
        {
            let c = c.to_owned();
            set(&mut tree, kind, &["oauthConfig", "certificate"], &[&c])?;
        }
    }
    // The app as it will be, checked.
    let merged = match Component::from_element(kind, &tree, &ctx.opts)? {
        Component::ConnectedApp(m) => m,
        _ => return Err(Problem::new("not a ConnectedApp")),
    };
    let admin = merged
        .oauth_config
        .as_ref()
        .and_then(|o| o.is_admin_approved)
        .unwrap_or(false);
    if (!merged.profile_name.is_empty() || !merged.permission_set_name.is_empty()) && !admin {
        return Err(Problem::new(
            "To use profileName or permissionSetName, the isAdminApproved field must be set to true.",
        ));
    }
    check_profiles(cfg, "profileName", &merged.profile_name)?;
    check_permission_sets(cfg, ctx, "permissionSetName", &merged.permission_set_name)?;
    if let Some(t) = merged
        .oauth_config
        .as_ref()
        .and_then(|o| o.certificate.as_deref())
        .filter(|t| !t.trim().is_empty())
    {
        certificate(t)?;
    }
    let replaced = existing
        .and_then(|ix| cfg.apps[ix].meta.as_ref())
        .map_or(0, AppMeta::bytes);
    let file = kept_file(cfg, &mut tree, replaced)?;
    let refused = cfg.refused_certificates.clone();
    let ix = match existing {
        Some(ix) => {
            let id = cfg.apps[ix].id.clone();
            let old_stored = match &cfg.apps[ix].meta {
                Some(AppMeta::Connected(s)) => Some(s.clone()),
                _ => None,
            };
            let s = record(kind, name, id, file, old_stored.as_ref(), ctx);
            version_to_change(cfg, ix, ctx).meta = Some(AppMeta::Connected(s));
            ix
        }
        None => {
            room_for_an_app(cfg)?;
            let id = next_id(cfg, "0H4")?;
            let s = record(kind, name, id.clone(), file, None, ctx);
            let app = new_app(cfg, name, id, false, ctx, AppMeta::Connected(s));
            cfg.apps.push(app);
            ctx.touched.insert(cfg.apps.len() - 1);
            cfg.apps.len() - 1
        }
    };
    refresh(&mut cfg.apps[ix], &refused, cfg.out_of_order);
    Ok(existing.is_none())
}

/// Refresh app `ix` of the scratch org.
pub(super) fn refresh_at(cfg: &mut Config, ix: usize) {
    let (refused, out_of_order) = (cfg.refused_certificates.clone(), cfg.out_of_order);
    refresh(&mut cfg.apps[ix], &refused, out_of_order);
}

/// The External Client App `name`, an index into the scratch org.
pub(super) fn eca_index(cfg: &Config, name: &str) -> Option<usize> {
    cfg.apps
        .iter()
        .position(|a| a.name == name && a.external_client_app)
}

fn eca_meta(app: &App) -> Option<&EcaMeta> {
    app.meta.as_ref().and_then(AppMeta::eca)
}

fn eca_meta_mut(app: &mut App) -> Option<&mut EcaMeta> {
    match app.meta.as_mut() {
        Some(AppMeta::External(e)) => Some(e),
        _ => None,
    }
}

/// The app (other than `except`) holding a part of type `kind` named `name`.
fn part_owner(
    cfg: &Config,
    kind: MetadataType,
    name: &str,
    except: Option<usize>,
) -> Option<(usize, String)> {
    cfg.apps.iter().enumerate().find_map(|(i, a)| {
        if Some(i) == except {
            return None;
        }
        eca_meta(a)
            .and_then(|e| e.part(kind))
            .filter(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| (i, p.id.clone()))
    })
}

/// Add a policy Salesforce generates to app `ix` (nothing when a part of the app's or
/// another app's already has the name).
pub(super) fn generate(
    cfg: &mut Config,
    ctx: &mut Ctx<'_>,
    ix: usize,
    kind: MetadataType,
) -> Result<(), Problem> {
    let Some(slot) = part_slot(kind) else {
        return Ok(());
    };
    let app_name = cfg.apps[ix].name.clone();
    let Some(e) = eca_meta(&cfg.apps[ix]) else {
        return Ok(());
    };
    if e.parts[slot].is_some() {
        return Ok(());
    }
    let (name, component) = match kind {
        MetadataType::ExtlClntAppOauthConfigurablePolicies => {
            let Some(oauth) = e.part(MetadataType::ExtlClntAppOauthSettings) else {
                return Ok(());
            };
            let name = default_oauth_policy_name(&oauth.name);
            let c = stored::default_oauth_policy(&app_name, &name);
            (name, c)
        }
        MetadataType::ExtlClntAppConfigurablePolicies => {
            let name = default_plugin_policy_name(&app_name);
            let c = stored::default_plugin_policy(&app_name, &name);
            (name, c)
        }
        _ => return Ok(()),
    };
    if part_owner(cfg, kind, &name, None).is_some() {
        return Ok(());
    }
    let id = next_id(cfg, PART_PREFIXES[slot])?;
    let file = c_file(&component)?;
    let s = record(kind, &name, id, file, None, ctx);
    if let Some(e) = eca_meta_mut(version_to_change(cfg, ix, ctx)) {
        e.parts[slot] = Some(s);
    }
    refresh_at(cfg, ix);
    Ok(())
}

fn c_file(c: &Component) -> Result<String, Problem> {
    c.to_xml().map_err(|e| Problem::new(e.to_string()))
}

/// `ExternalClientApplication`, the header.
pub(super) fn header(
    cfg: &mut Config,
    ctx: &mut Ctx<'_>,
    name: &str,
    mut tree: Element,
) -> Result<bool, Problem> {
    let kind = MetadataType::ExternalClientApplication;
    let replaced = eca_index(cfg, name)
        .and_then(|ix| eca_meta(&cfg.apps[ix]))
        .map_or(0, |e| e.header.file.len());
    let file = kept_file(cfg, &mut tree, replaced)?;
    if let Some(ix) = eca_index(cfg, name) {
        // The header's elements do not reach the token endpoint: changed in place.
        if let Some(e) = eca_meta_mut(&mut cfg.apps[ix]) {
            let old = e.header.clone();
            e.header = record(kind, name, old.id.clone(), file, Some(&old), ctx);
        }
        return Ok(false);
    }
    if cfg.apps.iter().any(|a| a.name == name) {
        // The emulator's wording (the real text is not known).
        return Err(Problem::new(format!("An app named {name} already exists.")));
    }
    room_for_an_app(cfg)?;
    let id = next_id(cfg, HEADER_PREFIX)?;
    let meta = AppMeta::External(Box::new(EcaMeta {
        header: record(kind, name, id, file, None, ctx),
        parts: Default::default(),
    }));
    let app_id = next_id(cfg, "0H4")?;
    let app = new_app(cfg, name, app_id, true, ctx, meta);
    cfg.apps.push(app);
    let ix = cfg.apps.len() - 1;
    ctx.touched.insert(ix);
    if cfg.generated_policies == GeneratedPolicies::AtCreation {
        generate(cfg, ctx, ix, MetadataType::ExtlClntAppConfigurablePolicies)?;
    }
    refresh_at(cfg, ix);
    Ok(true)
}

/// One of the four parts of an External Client App.
pub(super) fn part(
    cfg: &mut Config,
    ctx: &mut Ctx<'_>,
    c: &Component,
    name: &str,
    mut tree: Element,
) -> Result<bool, Problem> {
    let kind = c.kind();
    let Some(slot) = part_slot(kind) else {
        return Err(Problem::new("not a part of an External Client App"));
    };
    let parent = c.external_client_application().unwrap_or("").trim();
    if parent.is_empty() {
        return Err(Problem::new(
            "Enter the name of the parent external client app",
        ));
    }
    let Some(ix) = eca_index(cfg, parent) else {
        return Err(Problem::new(format!(
            "In field: externalClientApplication - no ExternalClientApplication named {parent} found"
        )));
    };
    if let Some((_, id)) = part_owner(cfg, kind, name, Some(ix)) {
        // A part of that name belongs to another app (the emulator's wording, in
        // Salesforce's DUPLICATE_VALUE shape).
        return Err(Problem::new(format!(
            "duplicate value found: DeveloperName duplicates value on record with id: {id}"
        )));
    }
    let existing = eca_meta(&cfg.apps[ix]).and_then(|e| e.parts[slot].clone());
    if let Some(e) = &existing
        && !e.name.eq_ignore_ascii_case(name)
    {
        // The live text (a third party's report; salesforce-org-fidelity.md, D1).
        return Err(Problem::new(format!(
            "duplicate value found: ExternalClientApplicationId duplicates value on record with id: {}",
            e.id
        )));
    }
    match c {
        Component::ExtlClntAppGlobalOauthSettings(g) => {
            tree.remove(&["consumerSecret"]);
            if let Some(t) = g.certificate.as_deref().filter(|t| !t.trim().is_empty()) {
                certificate(t)?;
            }
            let given = g
                .consumer_key
                .as_deref()
                .map(str::trim)
                .filter(|k| !k.is_empty());
            let key = match &existing {
                None => match given {
                    Some(k) => chosen_key(cfg, k, true)?,
                    None => new_consumer_key()?,
                },
                Some(_) => {
                    let current = cfg.apps[ix].consumer_key.clone();
                    match (given, cfg.eca_consumer_key_on_update) {
                        (Some(_), EcaKeyOnUpdate::Refuse) => {
                            // The emulator's wording (sfdx-hardis reports the deploy
                            // refused; the text is not known).
                            return Err(Problem::new(
                                "The consumer key of an external client app can only be set when its global OAuth settings are created.",
                            ));
                        }
                        (Some(k), EcaKeyOnUpdate::RefuseDifferent) if k != current => {
                            return Err(Problem::new(
                                "The consumer key of an external client app can only be set when its global OAuth settings are created.",
                            ));
                        }
                        _ => current,
                    }
                }
            };
            set(&mut tree, kind, &["consumerKey"], &[&key])?;
        }
        Component::ExtlClntAppOauthConfigurablePolicies(p) => {
            check_profiles(cfg, "commaSeparatedProfile", &p.comma_separated_profile)?;
            check_permission_sets(
                cfg,
                ctx,
                "commaSeparatedPermissionSet",
                &p.comma_separated_permission_set,
            )?;
            if cfg.permission_sets_assigned_to_deployer {
                let deployer = ctx.before.users.get(ctx.user);
                for n in &p.comma_separated_permission_set {
                    let assigned = ctx.before.permission_set_by_name(n).is_some_and(|ps| {
                        deployer.is_some_and(|u| u.permission_sets.contains(&ps))
                    });
                    if !assigned {
                        // The emulator's wording (a live report says the deploy fails; its
                        // text is not known).
                        return Err(Problem::new(format!(
                            "In field: commaSeparatedPermissionSet - the permission set {n} must be assigned to the deploying user first"
                        )));
                    }
                }
            }
        }
        _ => {}
    }
    let file = kept_file(
        cfg,
        &mut tree,
        existing.as_ref().map_or(0, |e| e.file.len()),
    )?;
    let id = match &existing {
        Some(e) => e.id.clone(),
        None => next_id(cfg, PART_PREFIXES[slot])?,
    };
    let s = record(kind, name, id, file, existing.as_ref(), ctx);
    if let Some(e) = eca_meta_mut(version_to_change(cfg, ix, ctx)) {
        e.parts[slot] = Some(s);
    }
    if existing.is_none()
        && kind == MetadataType::ExtlClntAppOauthSettings
        && cfg.generated_policies == GeneratedPolicies::AtCreation
    {
        generate(
            cfg,
            ctx,
            ix,
            MetadataType::ExtlClntAppOauthConfigurablePolicies,
        )?;
    }
    refresh_at(cfg, ix);
    Ok(existing.is_none())
}

/// At the end of a deploy under `generated_policies = "after-deploy"`: the policies
/// Salesforce generates for the apps the deploy changed and left without them.
pub(super) fn generate_after_deploy(cfg: &mut Config, ctx: &mut Ctx<'_>) -> Result<(), Problem> {
    let mut apps: Vec<usize> = ctx.touched.iter().copied().collect();
    apps.sort_unstable();
    for ix in apps {
        if ix >= cfg.apps.len() || !cfg.apps[ix].external_client_app {
            continue;
        }
        generate(
            cfg,
            ctx,
            ix,
            MetadataType::ExtlClntAppOauthConfigurablePolicies,
        )?;
        generate(cfg, ctx, ix, MetadataType::ExtlClntAppConfigurablePolicies)?;
    }
    Ok(())
}
