//! `rotate --deploy --second-app`: the new certificate on a second External Client App,
//! made and proven through the same phases as `connect`, then switched to.

use std::path::Path;

use super::{
    InOrg, Redeployed, Waiting, active_in_org, generation, job, plan_for, read_app, spec_of,
};
use crate::connect::deploy::{self, Deployed, Expect};
use crate::connect::discover;
use crate::connect::plan;
use crate::connect::verify::{Proof, Prover};
use crate::connect::{
    Confirmation, OrgClient, Report, Status, certificate_of, endpoint, new_record, put_record,
    same_org,
};
use crate::error::Input;
use crate::key::RsaKey;
use crate::manifest::{AppKind, AppState};
use crate::wire::metadata::EcaPartNames;
use crate::{Error, Result, workdir};

/// `rotate --deploy --second-app`: a second External Client App `<app>_g<N>` with the new
/// generation's certificate and its own consumer key, pre-authorizing the same permission
/// set and profiles for the same user; proven with `new_key`; then, in one manifest
/// write, the new generation becomes current and the second app becomes the one `mint
/// --dir` uses. The first app is left as it is (its clients keep working) until
/// [`retire_previous`](super::retire_previous).
pub fn second_app(
    dir: &Path,
    org: &OrgClient<'_>,
    new_generation: &str,
    new_key: &RsaKey,
    waiting: Waiting,
    report: &mut dyn Report,
) -> Result<Redeployed> {
    let m = workdir::load(dir)?;
    let (first, o) = active_in_org(&m, org)?;
    let g = generation(&m, new_generation)?.clone();
    if m.current.as_deref() == Some(g.dir.as_str())
        && first.generation.as_deref() == Some(g.dir.as_str())
    {
        return Err(Error::invalid(
            Input::Generation,
            format!(
                "{} is already current and on the active app `{}`: rotate first (`certmint rotate DIR`)",
                g.dir, first.name
            ),
        ));
    }
    let name = plan::second_app_name(&first.name, g.number);
    if name == first.name {
        return Err(Error::internal(
            "the second app would have the first one's name",
        ));
    }
    let earlier = m
        .apps
        .iter()
        .find(|a| a.name == name && (a.org_id.is_empty() || same_org(&a.org_id, &o.id)))
        .cloned();
    let mut rec = match earlier {
        Some(r) => r,
        None => {
            let mut r = new_record(
                &name,
                AppKind::ExternalClientApp,
                &plan::new_consumer_key()?,
                &first.username,
            );
            r.org_id = o.id.clone();
            r.instance_url = org.session().instance_url().to_owned();
            r.replaces = Some(first.name.clone());
            r.permission_set = first.permission_set.clone();
            r.profiles = first.profiles.clone();
            r.scopes = first.scopes.clone();
            r.contact_email = first.contact_email.clone();
            r.callback_url = first.callback_url.clone();
            r.label = name.clone();
            r
        }
    };
    rec.kind = AppKind::ExternalClientApp;
    rec.parts = Some(
        rec.parts
            .clone()
            .unwrap_or_else(|| EcaPartNames::generated(&name)),
    );
    let (pem, sha) = certificate_of(dir, &m, &g, Some(new_key))?;
    let spec = spec_of(&rec, &m.alias, pem.clone())?;
    let side = discover::org_side(org, &rec.username)?;
    let job = job(dir, org, waiting);
    let mut notes = Vec::new();
    let app = read_app(org, &rec, &mut notes)?;
    if let InOrg::Eca(ex) = &app
        && ex
            .consumer_key
            .as_deref()
            .is_some_and(|k| k != rec.consumer_key)
    {
        return Err(Error::invalid(
            Input::App,
            format!(
                "the org already has an External Client App `{name}` with another consumer key: delete it, or rotate to another generation"
            ),
        ));
    }
    let ps_missing = match &rec.permission_set {
        Some(ps) => org.permission_set(ps)?.is_none(),
        None => false,
    };
    let user_assigned = match &rec.permission_set {
        Some(ps) => match org.permission_set(ps)? {
            Some(id) => org.assignment(&id, &side.user.id)?.is_some(),
            None => false,
        },
        None => true,
    };
    discover::check_permissions(&side.admin, true, ps_missing, !user_assigned)?;
    let ps_id = match rec.permission_set.clone() {
        Some(ps) => {
            Some(deploy::ensure_permission_set(&job, &mut rec, &ps, &side.user.id, report)?.id)
        }
        None => None,
    };
    let end = endpoint(
        AppKind::ExternalClientApp,
        None,
        None,
        Some(org.session().instance_url()),
        o.is_sandbox,
    )?;
    // The second app's own deploy and proof; its record then becomes the active one.
    let r = {
        let mut spec = spec;
        spec.send_consumer_key = matches!(app, InOrg::Missing);
        let plan = plan_for(&spec, &app)?;
        rec.generation = Some(g.dir.clone());
        rec.certificate_sha256 = Some(sha);
        let ps_name = rec.permission_set.clone();
        let deployed = deploy::deploy_holding_if_asked(
            &job,
            &mut rec,
            &plan,
            ps_id.as_deref().zip(ps_name.as_deref()),
            &side.admin.id,
            report,
        )?;
        match deployed {
            Deployed::Running(id) => {
                return Ok(Redeployed {
                    status: Status::DeployRunning { id },
                    app: rec,
                    generation: g.dir.clone(),
                    confirmation: None,
                    notes,
                });
            }
            Deployed::Failed {
                id,
                status,
                failures,
            } => {
                return Ok(Redeployed {
                    status: Status::DeployFailed {
                        id,
                        status,
                        failures,
                    },
                    app: rec,
                    generation: g.dir.clone(),
                    confirmation: None,
                    notes,
                });
            }
            Deployed::Succeeded => report.step(&format!("deployed the second app `{name}`")),
            Deployed::Nothing => {}
        }
        let confirmation = deploy::confirm(
            org,
            &rec,
            Expect {
                certificate: Some(&pem),
                permission_set: rec.permission_set.as_deref(),
                permission_set_id: ps_id.as_deref(),
                enabled: Some(true),
            },
        )?;
        if let Confirmation::Differs(why) = &confirmation {
            let why = why.clone();
            return Ok(Redeployed {
                status: Status::NotConfirmed { why },
                app: rec,
                generation: g.dir.clone(),
                confirmation: Some(confirmation),
                notes,
            });
        }
        if let Confirmation::Unavailable(why) = &confirmation {
            notes.push(format!("could not read the second app back ({why})"));
        }
        let prover = Prover::with_audience(
            org.http(),
            end.login.clone(),
            end.audience.clone(),
            new_key,
            &rec.consumer_key,
            &rec.username,
        )?;
        let status = match job.prove(&prover, report)? {
            Proof::Works {
                attempts, after, ..
            } => {
                rec.state = AppState::Verified;
                workdir::activate_with(dir, &g.dir, |m| {
                    put_record(m, &rec, Some(&end));
                    Ok(())
                })?;
                Status::Connected { attempts, after }
            }
            Proof::TimedOut { attempts, last } => Status::NotYetWorking { attempts, last },
        };
        Redeployed {
            status,
            app: rec,
            generation: g.dir.clone(),
            confirmation: Some(confirmation),
            notes,
        }
    };
    Ok(r)
}
