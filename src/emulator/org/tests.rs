//! The org's rules for deploys, one test each: External Client App parts as a real org
//! holds them (generated policies, one part of each kind), declarative connected app
//! deploys, permission sets that must exist first, the consumer key only at creation,
//! checkOnly, destructive deploys, and the state file keeping it all.

use std::io::Write as _;

use super::Org;
use super::deploy::{Request, start};
use crate::emulator::config::stored::AppMeta;
use crate::emulator::config::{Config, PermittedUsers};
use crate::wire::metadata::eca::PART_TYPES;
use crate::wire::metadata::*;

const NOW_MS: i64 = 1_800_000_000_000;

fn cert() -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/certs/base.crt"),
    )
    .unwrap()
}

/// An org with the admin `admin@example.com` (System Administrator), a user
/// `int@example.com` (Standard User), the permission set `Existing`, and `extra` TOML
/// (settings go in `[emulator]`).
fn org(emulator: &str, extra: &str) -> Org {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let toml = format!(
        "[org]\nallow_connected_app_creation = true\n[emulator]\ndeploy_millis = 0\npropagation_seconds = 0\n{emulator}\n\
         [[permission_sets]]\nname = \"Existing\"\n\
         [[apps]]\nname = \"console\"\nconsumer_key = \"CONSOLE\"\nexternal_client_app = true\n{extra}\n\
         [[users]]\nusername = \"admin@example.com\"\n\
         [[users]]\nusername = \"int@example.com\"\nprofile = \"Standard User\"\n"
    );
    let cfg = Config::from_toml(&toml, &mut |p| std::fs::read(fixtures.join(p))).unwrap();
    Org::new(cfg, None)
}

/// The outcome of a deploy: its status and its failures' problems.
fn deploy_with(org: &mut Org, zip: &[u8], options: DeployOptions) -> (DeployStatus, Vec<String>) {
    let limits = ZipLimits::default();
    let r = start(
        org,
        Request {
            zip,
            options,
            user: 0,
            now_ms: NOW_MS,
            limits: &limits,
        },
    )
    .unwrap()
    .result;
    let problems = r
        .details
        .map(|d| {
            d.component_failures
                .into_iter()
                .map(|f| f.problem.unwrap_or_default())
                .collect()
        })
        .unwrap_or_default();
    (r.status, problems)
}

fn deploy(org: &mut Org, p: &DeployPackage) -> (DeployStatus, Vec<String>) {
    deploy_with(org, &p.to_zip().unwrap(), DeployOptions::default())
}

fn header(p: &mut DeployPackage, app: &str) {
    p.add(
        app,
        &Component::ExternalClientApplication(ExternalClientApplication {
            contact_email: "a@example.com".into(),
            label: app.into(),
            ..Default::default()
        }),
    )
    .unwrap();
}

fn global(p: &mut DeployPackage, app: &str, name: &str, key: Option<&str>) {
    p.add(
        name,
        &Component::ExtlClntAppGlobalOauthSettings(ExtlClntAppGlobalOauthSettings {
            certificate: Some(cert()),
            consumer_key: key.map(Into::into),
            external_client_application: app.into(),
            ..Default::default()
        }),
    )
    .unwrap();
}

fn oauth(p: &mut DeployPackage, app: &str, name: &str) {
    p.add(
        name,
        &Component::ExtlClntAppOauthSettings(ExtlClntAppOauthSettings {
            comma_separated_oauth_scopes: vec![OauthScope::Api],
            external_client_application: app.into(),
            label: None,
        }),
    )
    .unwrap();
}

fn policy(p: &mut DeployPackage, app: &str, name: &str, sets: &[&str]) {
    p.add(
        name,
        &Component::ExtlClntAppOauthConfigurablePolicies(ExtlClntAppOauthConfigurablePolicies {
            comma_separated_permission_set: sets.iter().map(|s| (*s).to_owned()).collect(),
            external_client_application: app.into(),
            permitted_users_policy_type: Some(PermittedUsersPolicyType::AdminApprovedPreAuthorized),
            ..Default::default()
        }),
    )
    .unwrap();
}

fn plugin(p: &mut DeployPackage, app: &str, name: &str) {
    p.add(
        name,
        &Component::ExtlClntAppConfigurablePolicies(ExtlClntAppConfigurablePolicies {
            external_client_application: app.into(),
            is_enabled: true,
            is_oauth_plugin_enabled: Some(true),
            label: None,
        }),
    )
    .unwrap();
}

fn permission_set(p: &mut DeployPackage, name: &str) {
    p.add(
        name,
        &Component::PermissionSet(PermissionSet {
            label: name.into(),
            ..Default::default()
        }),
    )
    .unwrap();
}

/// The part names of app `name`, in `PART_TYPES` order.
fn parts(org: &Org, name: &str) -> Vec<Option<String>> {
    let a = org.cfg.apps.iter().find(|a| a.name == name).unwrap();
    let e = a.meta.as_ref().and_then(AppMeta::eca).unwrap();
    PART_TYPES
        .iter()
        .map(|k| e.part(*k).map(|p| p.name.clone()))
        .collect()
}

fn part_id(org: &Org, app: &str, kind: MetadataType) -> String {
    let a = org.cfg.apps.iter().find(|a| a.name == app).unwrap();
    let e = a.meta.as_ref().and_then(AppMeta::eca).unwrap();
    e.part(kind).unwrap().id.clone()
}

/// A new app deployed in one piece gets the policies Salesforce generates, with their
/// default values: enabled, all users self-authorized.
#[test]
fn a_new_app_gets_the_generated_policies() {
    let mut o = org("", "");
    let mut p = DeployPackage::new(62);
    header(&mut p, "acme");
    global(&mut p, "acme", "acme_glbloauth", Some("AcmeKey0123"));
    oauth(&mut p, "acme", "acme_oauth");
    assert_eq!(deploy(&mut o, &p), (DeployStatus::Succeeded, vec![]));
    assert_eq!(
        parts(&o, "acme"),
        [
            Some("acme_glbloauth".to_owned()),
            Some("acme_oauth".to_owned()),
            Some("acme_oauth_defaultPolicy".to_owned()),
            Some("acme_defaultPolicy".to_owned()),
        ]
    );
    let app = o.cfg.apps.iter().find(|a| a.name == "acme").unwrap();
    assert_eq!(app.permitted_users, PermittedUsers::SelfAuthorize);
    assert!(app.enabled && app.verifier.is_some());
    assert_eq!(app.consumer_key, "AcmeKey0123");
    // Deploying the generated names updates those records.
    let mut p = DeployPackage::new(62);
    policy(&mut p, "acme", "acme_oauth_defaultPolicy", &["Existing"]);
    plugin(&mut p, "acme", "acme_defaultPolicy");
    assert_eq!(deploy(&mut o, &p), (DeployStatus::Succeeded, vec![]));
    let app = o.cfg.apps.iter().find(|a| a.name == "acme").unwrap();
    assert_eq!(app.permitted_users, PermittedUsers::AdminApproved);
    assert_eq!(app.permission_sets, ["Existing"]);
}

/// A policy of another name collides with the generated one at creation (the default),
/// and is accepted under `generated_policies = "after-deploy"`, which then generates
/// nothing for that app.
#[test]
fn a_custom_policy_name_at_creation_depends_on_when_policies_are_generated() {
    let zip = {
        let mut p = DeployPackage::new(62);
        header(&mut p, "acme");
        global(&mut p, "acme", "acme_GlblOAuth", Some("AcmeKey0123"));
        oauth(&mut p, "acme", "acme_OAuth");
        policy(&mut p, "acme", "acme_OAuthPlcy", &[]);
        plugin(&mut p, "acme", "acme_Plcy");
        p
    };
    let mut o = org("", "");
    let (status, problems) = deploy(&mut o, &zip);
    assert_eq!(status, DeployStatus::Failed);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems.iter().all(|p| p.starts_with(
            "duplicate value found: ExternalClientApplicationId duplicates value on record with id: 0x"
        )),
        "{problems:?}"
    );
    assert!(!o.cfg.apps.iter().any(|a| a.name == "acme"), "rolled back");
    let mut o = org("generated_policies = \"after-deploy\"", "");
    assert_eq!(deploy(&mut o, &zip), (DeployStatus::Succeeded, vec![]));
    assert_eq!(
        parts(&o, "acme"),
        [
            "acme_GlblOAuth",
            "acme_OAuth",
            "acme_OAuthPlcy",
            "acme_Plcy"
        ]
        .map(|s| Some(s.to_owned()))
    );
    // Without policies in the deploy, they are generated at its end.
    let mut p = DeployPackage::new(62);
    header(&mut p, "beta");
    oauth(&mut p, "beta", "beta_oauth");
    assert_eq!(deploy(&mut o, &p), (DeployStatus::Succeeded, vec![]));
    assert_eq!(
        parts(&o, "beta"),
        [
            None,
            Some("beta_oauth".to_owned()),
            Some("beta_oauth_defaultPolicy".to_owned()),
            Some("beta_defaultPolicy".to_owned())
        ]
    );
}

/// An app made in Setup has `<app>_oauthPlcy`: a deploy of the generated name (or any
/// other) fails with the id of the part it has, and so does another global settings name.
#[test]
fn a_second_part_of_a_kind_fails_with_the_existing_parts_id() {
    let mut o = org("", "");
    assert_eq!(
        parts(&o, "console"),
        EcaPartNames::setup("console").get_all()
    );
    for (kind, name) in [
        (
            MetadataType::ExtlClntAppOauthConfigurablePolicies,
            "console_oauth_defaultPolicy",
        ),
        (MetadataType::ExtlClntAppGlobalOauthSettings, "console_glbl"),
        (MetadataType::ExtlClntAppOauthSettings, "console_OAuth2"),
    ] {
        let mut p = DeployPackage::new(62);
        match kind {
            MetadataType::ExtlClntAppGlobalOauthSettings => global(&mut p, "console", name, None),
            MetadataType::ExtlClntAppOauthSettings => oauth(&mut p, "console", name),
            _ => policy(&mut p, "console", name, &[]),
        }
        let id = part_id(&o, "console", kind);
        assert_eq!(
            deploy(&mut o, &p),
            (
                DeployStatus::Failed,
                vec![format!(
                    "duplicate value found: ExternalClientApplicationId duplicates value on record with id: {id}"
                )]
            ),
            "{name}"
        );
    }
    // The same name, in any case, updates it.
    let mut p = DeployPackage::new(62);
    policy(&mut p, "console", "CONSOLE_oauthPlcy", &["Existing"]);
    assert_eq!(deploy(&mut o, &p), (DeployStatus::Succeeded, vec![]));
    assert_eq!(
        parts(&o, "console")[2].as_deref(),
        Some("console_oauthPlcy")
    );
}

trait AllNames {
    fn get_all(&self) -> Vec<Option<String>>;
}

impl AllNames for EcaPartNames {
    fn get_all(&self) -> Vec<Option<String>> {
        PART_TYPES
            .iter()
            .map(|k| self.get(*k).map(str::to_owned))
            .collect()
    }
}

/// `parts = "metadata"` names a configured app's parts as a metadata deploy does.
#[test]
fn configured_apps_name_their_parts_as_made_in_setup_unless_told() {
    let o = org(
        "",
        "[[apps]]\nname = \"deployed\"\nconsumer_key = \"DEPLOYEDKEY\"\nexternal_client_app = true\nparts = \"metadata\"\n",
    );
    assert_eq!(
        parts(&o, "deployed"),
        EcaPartNames::generated("deployed").get_all()
    );
}

/// A zip of raw files (path, text) with a package.xml naming them.
fn raw_zip(package: &Package, files: &[(&str, &str)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    w.start_file("package.xml", opts).unwrap();
    w.write_all(package.to_xml().unwrap().as_bytes()).unwrap();
    for (path, text) in files {
        w.start_file(*path, opts).unwrap();
        w.write_all(text.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn connected_app_zip(body: &str) -> Vec<u8> {
    let mut package = Package::new(62);
    package.add(MetadataType::ConnectedApp, "Legacy");
    let file = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ConnectedApp xmlns=\"{NAMESPACE}\">{body}</ConnectedApp>\n"
    );
    raw_zip(&package, &[("connectedApps/Legacy.connectedApp", &file)])
}

fn stored_file(o: &Org, app: &str) -> Element {
    let a = o.cfg.apps.iter().find(|a| a.name == app).unwrap();
    match a.meta.as_ref().unwrap() {
        AppMeta::Connected(s) => s.tree().unwrap(),
        AppMeta::External(e) => e.header.tree().unwrap(),
    }
}

/// A connected app redeploy replaces the file, except: the consumer key and the
/// pre-authorized lists left out are kept; an explicit empty list element removes them;
/// an omitted certificate clears it (or keeps it, `omitted_certificate = "keeps"`).
#[test]
fn a_connected_app_deploy_is_declarative_with_the_documented_exceptions() {
    let cert = cert();
    let first = format!(
        "<contactEmail>ops@example.com</contactEmail><ipRanges><end>10.0.0.9</end><start>10.0.0.1</start></ipRanges>\
         <label>Legacy App</label><oauthConfig><callbackUrl>https://a.example/cb</callbackUrl>\
         <certificate>{cert}</certificate><consumerKey>LegacyKey123</consumerKey>\
         <isAdminApproved>true</isAdminApproved><scopes>Api</scopes><scopes>Web</scopes></oauthConfig>\
         <permissionSetName>Existing</permissionSetName><profileName>System Administrator</profileName>"
    );
    for keeps in [false, true] {
        let mut o = org(
            if keeps {
                "omitted_certificate = \"keeps\""
            } else {
                ""
            },
            "",
        );
        let zip = connected_app_zip(&first);
        assert_eq!(
            deploy_with(&mut o, &zip, DeployOptions::default()),
            (DeployStatus::Succeeded, vec![])
        );
        // certmint's old update: no lists, no key, no certificate, other scopes.
        let update = "<contactEmail>admin@example.com</contactEmail><label>Legacy</label>\
             <oauthConfig><callbackUrl>http://localhost:1717/OauthRedirect</callbackUrl>\
             <isAdminApproved>true</isAdminApproved><scopes>Api</scopes></oauthConfig>";
        assert_eq!(
            deploy_with(&mut o, &connected_app_zip(update), DeployOptions::default()),
            (DeployStatus::Succeeded, vec![])
        );
        let tree = stored_file(&o, "Legacy");
        assert_eq!(tree.text_at(&["label"]), Some("Legacy"));
        assert!(tree.child("ipRanges").is_none(), "dropped");
        assert_eq!(tree.texts_at(&["oauthConfig", "scopes"]), ["Api"]);
        assert_eq!(
            tree.text_at(&["oauthConfig", "consumerKey"]),
            Some("LegacyKey123")
        );
        assert_eq!(tree.texts_at(&["permissionSetName"]), ["Existing"]);
        assert_eq!(tree.texts_at(&["profileName"]), ["System Administrator"]);
        let app = o.cfg.apps.iter().find(|a| a.name == "Legacy").unwrap();
        assert_eq!(app.profiles, ["System Administrator"]);
        assert_eq!(app.verifier.is_some(), keeps, "omitted certificate");
        // An explicit empty element removes a list.
        let retire = format!(
            "<contactEmail>admin@example.com</contactEmail><label>Legacy</label>\
             <oauthConfig><callbackUrl>http://localhost:1717/OauthRedirect</callbackUrl>\
             <certificate>{cert}</certificate><isAdminApproved>true</isAdminApproved><scopes>Api</scopes></oauthConfig>\
             <permissionSetName></permissionSetName><profileName></profileName>"
        );
        assert_eq!(
            deploy_with(
                &mut o,
                &connected_app_zip(&retire),
                DeployOptions::default()
            ),
            (DeployStatus::Succeeded, vec![])
        );
        let app = o.cfg.apps.iter().find(|a| a.name == "Legacy").unwrap();
        assert!(app.profiles.is_empty() && app.permission_sets.is_empty());
        assert!(stored_file(&o, "Legacy").child("profileName").is_none());
    }
}

/// A permission set the same deploy creates does not count as existing (by default), for
/// a connected app's `permissionSetName` and an ECA policy's `commaSeparatedPermissionSet`.
#[test]
fn referenced_permission_sets_must_exist_before_the_deploy() {
    let zip = || {
        let mut p = DeployPackage::new(62);
        permission_set(&mut p, "Fresh");
        policy(&mut p, "console", "console_oauthPlcy", &["Fresh"]);
        p
    };
    let mut o = org("", "");
    assert_eq!(
        deploy(&mut o, &zip()),
        (
            DeployStatus::Failed,
            vec![
                "In field: commaSeparatedPermissionSet - no PermissionSet named Fresh found".into()
            ]
        )
    );
    assert!(
        o.cfg.permission_set_by_name("Fresh").is_none(),
        "rolled back"
    );
    let mut o = org("permission_sets_must_preexist = false", "");
    assert_eq!(deploy(&mut o, &zip()), (DeployStatus::Succeeded, vec![]));
    // A connected app: the same rule.
    let mut o = org("", "");
    let mut package = Package::new(62);
    package.add(MetadataType::PermissionSet, "Fresh");
    package.add(MetadataType::ConnectedApp, "Legacy");
    let ca = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ConnectedApp xmlns=\"{NAMESPACE}\"><contactEmail>a@example.com</contactEmail><label>L</label>\
         <oauthConfig><callbackUrl>https://a.example/cb</callbackUrl><isAdminApproved>true</isAdminApproved><scopes>Api</scopes></oauthConfig>\
         <permissionSetName>Fresh</permissionSetName></ConnectedApp>\n"
    );
    let ps = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PermissionSet xmlns=\"{NAMESPACE}\"><label>Fresh</label></PermissionSet>\n"
    );
    let zip = raw_zip(
        &package,
        &[
            ("connectedApps/Legacy.connectedApp", &ca),
            ("permissionsets/Fresh.permissionset", &ps),
        ],
    );
    assert_eq!(
        deploy_with(&mut o, &zip, DeployOptions::default()).1,
        ["In field: permissionSetName - no PermissionSet named Fresh found"]
    );
}

/// `permission_sets_assigned_to_deployer`: an ECA policy may name only permission sets
/// assigned to the deploying user.
#[test]
fn the_deployer_may_have_to_hold_the_permission_set() {
    let mut p = DeployPackage::new(62);
    policy(&mut p, "console", "console_oauthPlcy", &["Existing"]);
    let mut o = org("", "");
    assert_eq!(deploy(&mut o, &p).0, DeployStatus::Succeeded);
    let mut o = org("permission_sets_assigned_to_deployer = true", "");
    assert_eq!(
        deploy(&mut o, &p).1,
        [
            "In field: commaSeparatedPermissionSet - the permission set Existing must be assigned to the deploying user first"
        ]
    );
    let admin = o.cfg.users[0].id.clone();
    let ps = o.cfg.permission_sets[0].id.clone();
    o.assign(&ps, &admin).unwrap();
    assert_eq!(deploy(&mut o, &p).0, DeployStatus::Succeeded);
}

/// A consumer key sent to an app that has its global OAuth settings: refused (default),
/// refused only when different, or ignored.
#[test]
fn the_consumer_key_is_set_only_at_creation() {
    let refused = "The consumer key of an external client app can only be set when its global OAuth settings are created.";
    for (setting, same, different) in [
        ("", Some(refused), Some(refused)),
        (
            "eca_consumer_key_on_update = \"refuse-different\"",
            None,
            Some(refused),
        ),
        ("eca_consumer_key_change = \"error\"", None, Some(refused)),
        ("eca_consumer_key_on_update = \"ignore\"", None, None),
        ("eca_consumer_key_change = \"ignore\"", None, None),
    ] {
        for (key, want) in [("CONSOLE", same), ("OtherKey123", different)] {
            let mut o = org(setting, "");
            let mut p = DeployPackage::new(62);
            global(&mut p, "console", "console_glbloauth", Some(key));
            let (status, problems) = deploy(&mut o, &p);
            match want {
                Some(w) => assert_eq!(problems, [w], "{setting} {key}"),
                None => {
                    assert_eq!(status, DeployStatus::Succeeded, "{setting} {key}");
                    let app = o.cfg.apps.iter().find(|a| a.name == "console").unwrap();
                    assert_eq!(app.consumer_key, "CONSOLE", "the old key stays");
                }
            }
        }
    }
    // Without a key: kept.
    let mut o = org("", "");
    let mut p = DeployPackage::new(62);
    global(&mut p, "console", "console_glbloauth", None);
    assert_eq!(deploy(&mut o, &p).0, DeployStatus::Succeeded);
    let app = o.cfg.apps.iter().find(|a| a.name == "console").unwrap();
    assert_eq!(app.consumer_key, "CONSOLE");
    let old = Config::from_toml(
        "[emulator]\neca_consumer_key_change = \"ignore\"\neca_consumer_key_on_update = \"ignore\"\n[[apps]]\nconsumer_key = \"K\"\nexternal_client_app = true\n",
        &mut |_| Ok(Vec::new()),
    )
    .unwrap_err();
    assert!(old.to_string().contains("old name"), "{old}");
}

/// checkOnly evaluates the generated policies and the duplicates as if applied, and keeps
/// nothing.
#[test]
fn check_only_applies_the_rules_and_keeps_nothing() {
    let mut o = org("", "");
    let mut p = DeployPackage::new(62);
    header(&mut p, "acme");
    oauth(&mut p, "acme", "acme_oauth");
    policy(&mut p, "acme", "acme_oauthPolicy", &[]);
    let check = DeployOptions {
        check_only: Some(true),
        ..Default::default()
    };
    let (status, problems) = deploy_with(&mut o, &p.to_zip().unwrap(), check.clone());
    assert_eq!(status, DeployStatus::Failed);
    assert!(
        problems[0].starts_with("duplicate value found"),
        "{problems:?}"
    );
    let mut p = DeployPackage::new(62);
    header(&mut p, "acme");
    assert_eq!(
        deploy_with(&mut o, &p.to_zip().unwrap(), check),
        (DeployStatus::Succeeded, vec![])
    );
    assert!(!o.cfg.apps.iter().any(|a| a.name == "acme"));
}

/// Destructive deploys: a header only with its parts; a permission set only when nothing
/// uses it; a connected app.
#[test]
fn destructive_deploys_delete_what_nothing_needs() {
    let mut o = org("", "");
    let only_header = {
        let mut p = DeployPackage::new(62);
        p.delete(MetadataType::ExternalClientApplication, "console")
            .unwrap();
        p
    };
    let (status, problems) = deploy(&mut o, &only_header);
    assert_eq!(status, DeployStatus::Failed);
    assert!(
        problems[0].starts_with("Cannot delete the external client app console: delete its parts"),
        "{problems:?}"
    );
    // The permission set is pre-authorized by nothing yet, but assigned.
    let int = o.cfg.users[1].id.clone();
    let ps = o.cfg.permission_sets[0].id.clone();
    o.assign(&ps, &int).unwrap();
    let mut p = DeployPackage::new(62);
    p.delete(MetadataType::PermissionSet, "Existing").unwrap();
    assert!(deploy(&mut o, &p).1[0].contains("is assigned to 1 user(s)"));
    o.cfg.users[1].permission_sets.clear();
    assert_eq!(deploy(&mut o, &p), (DeployStatus::Succeeded, vec![]));
    assert!(o.cfg.permission_sets.is_empty());
    // The whole app, in one manifest.
    let mut p = DeployPackage::new(62);
    p.delete(MetadataType::ExternalClientApplication, "console")
        .unwrap();
    for (k, n) in PART_TYPES.iter().zip(parts(&o, "console")) {
        p.delete(*k, &n.unwrap()).unwrap();
    }
    assert_eq!(deploy(&mut o, &p), (DeployStatus::Succeeded, vec![]));
    assert!(o.cfg.apps.is_empty());
    let (_, problems) = deploy(&mut o, &p);
    assert!(
        problems.contains(&"No ExternalClientApplication named: console found".to_owned()),
        "{problems:?}"
    );
}

/// The state file keeps the files, names, ids and generated policies.
#[test]
fn the_state_file_keeps_the_files_and_the_names() {
    let mut o = org("", "");
    let mut p = DeployPackage::new(62);
    header(&mut p, "acme");
    global(&mut p, "acme", "acme_glbloauth", Some("AcmeKey0123"));
    oauth(&mut p, "acme", "acme_oauth");
    assert_eq!(deploy(&mut o, &p).0, DeployStatus::Succeeded);
    let state = o.cfg.state_toml().unwrap();
    let back = o.cfg.with_state(&state).unwrap();
    for (a, b) in o.cfg.apps.iter().zip(&back.apps) {
        assert_eq!(a.id, b.id);
        assert_eq!(a.meta, b.meta, "{}", a.name);
        assert_eq!(a.consumer_key, b.consumer_key);
    }
    assert_eq!(back.permission_sets, o.cfg.permission_sets);
}
