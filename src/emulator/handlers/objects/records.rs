//! The sObjects the emulator serves, described once (their fields: name, type, label,
//! reference), and their records drawn from the org: among them the External Client App
//! objects the org side reads (`ExternalClientApplication`, `ExtlClntAppOauthPlcyCnfg`;
//! sfdx-hardis queries them through the data API) and the permission sets as a real org
//! holds them, each profile owning one (`IsOwnedByProfile`), assigned to the profile's
//! users (a `PermissionSetAssignment` row each), so a query of a user's assignments tells
//! what the user may do.

use serde_json::{Map, Value as Json, json};

use crate::emulator::config::stored::{AppMeta, EcaMeta, Stored};
use crate::emulator::config::{
    App, Config, Permission, PermissionSetRecord, Permissions, PermittedUsers, Profile, User,
};
use crate::emulator::org::{assignment_id, profile_assignment_id, profile_permission_set_id};
use crate::wire::rest::{Attributes, RestError};

/// A field: API name, SOAP type, label, and for a reference its target and relationship.
pub(in crate::emulator::handlers) struct FieldDef {
    pub(in crate::emulator::handlers) name: &'static str,
    pub(in crate::emulator::handlers) kind: &'static str,
    pub(in crate::emulator::handlers) label: &'static str,
    pub(in crate::emulator::handlers) reference: Option<(&'static str, &'static str)>,
}

const fn f(name: &'static str, kind: &'static str, label: &'static str) -> FieldDef {
    FieldDef {
        name,
        kind,
        label,
        reference: None,
    }
}

const fn r(
    name: &'static str,
    label: &'static str,
    target: &'static str,
    relationship: &'static str,
) -> FieldDef {
    FieldDef {
        name,
        kind: "reference",
        label,
        reference: Some((target, relationship)),
    }
}

/// An sObject type.
pub(in crate::emulator::handlers) struct ObjectDef {
    pub(in crate::emulator::handlers) name: &'static str,
    pub(in crate::emulator::handlers) label: &'static str,
    pub(in crate::emulator::handlers) plural: &'static str,
    pub(in crate::emulator::handlers) prefix: &'static str,
    pub(in crate::emulator::handlers) createable: bool,
    pub(in crate::emulator::handlers) tooling_only: bool,
    pub(in crate::emulator::handlers) fields: &'static [FieldDef],
}

/// Every object served.
pub(in crate::emulator::handlers) const OBJECTS: &[ObjectDef] = &[
    ObjectDef {
        name: "ExternalClientApplication",
        label: "External Client App",
        plural: "External Client Apps",
        // Assumed: no public source gives the key prefix.
        prefix: "0xc",
        createable: false,
        tooling_only: false,
        fields: &[
            f("Id", "id", "External Client App ID"),
            f("DeveloperName", "string", "API Name"),
            f("MasterLabel", "string", "Label"),
            f("NamespacePrefix", "string", "Namespace Prefix"),
        ],
    },
    ObjectDef {
        name: "ExtlClntAppOauthPlcyCnfg",
        label: "External Client App OAuth Policy",
        plural: "External Client App OAuth Policies",
        // Assumed, as above.
        prefix: "0xp",
        createable: false,
        tooling_only: false,
        fields: &[
            f("Id", "id", "External Client App OAuth Policy ID"),
            r(
                "ExternalClientApplicationId",
                "External Client App ID",
                "ExternalClientApplication",
                "ExternalClientApplication",
            ),
            f(
                "PermittedUsersPolicyType",
                "picklist",
                "Permitted Users Policy Type",
            ),
        ],
    },
    ObjectDef {
        name: "ConnectedApplication",
        label: "Connected App",
        plural: "Connected Apps",
        prefix: "0H4",
        createable: false,
        tooling_only: false,
        fields: &[
            f("Id", "id", "Connected App ID"),
            f("Name", "string", "Name"),
        ],
    },
    ObjectDef {
        name: "Organization",
        label: "Organization",
        plural: "Organizations",
        prefix: "00D",
        createable: false,
        tooling_only: false,
        fields: &[
            f("Id", "id", "Organization ID"),
            f("Name", "string", "Name"),
            f("InstanceName", "string", "Instance Name"),
            f("IsSandbox", "boolean", "Is Sandbox"),
            f("NamespacePrefix", "string", "Namespace Prefix"),
            f("OrganizationType", "picklist", "Edition"),
            f("TrialExpirationDate", "datetime", "Trial Expiration Date"),
        ],
    },
    ObjectDef {
        name: "PermissionSet",
        label: "Permission Set",
        plural: "Permission Sets",
        prefix: "0PS",
        createable: true,
        tooling_only: false,
        fields: &[
            f("Id", "id", "Permission Set ID"),
            f("Name", "string", "Name"),
            f("Label", "string", "Label"),
            f("NamespacePrefix", "string", "Namespace Prefix"),
            f("IsOwnedByProfile", "boolean", "Is Owned By Profile"),
            r("ProfileId", "Profile ID", "Profile", "Profile"),
            f("PermissionsModifyAllData", "boolean", "Modify All Data"),
            f(
                "PermissionsModifyMetadata",
                "boolean",
                "Modify Metadata Through Metadata API Functions",
            ),
            f(
                "PermissionsCustomizeApplication",
                "boolean",
                "Customize Application",
            ),
            f(
                "PermissionsManageProfilesPermissionsets",
                "boolean",
                "Manage Profiles and Permission Sets",
            ),
            f(
                "PermissionsAssignPermissionSets",
                "boolean",
                "Assign Permission Sets",
            ),
        ],
    },
    ObjectDef {
        name: "PermissionSetAssignment",
        label: "Permission Set Assignment",
        plural: "Permission Set Assignments",
        prefix: "0Pa",
        createable: true,
        tooling_only: false,
        fields: &[
            f("Id", "id", "Permission Set Assignment ID"),
            r("AssigneeId", "Assignee ID", "User", "Assignee"),
            r(
                "PermissionSetId",
                "Permission Set ID",
                "PermissionSet",
                "PermissionSet",
            ),
        ],
    },
    ObjectDef {
        name: "Profile",
        label: "Profile",
        plural: "Profiles",
        prefix: "00e",
        createable: false,
        tooling_only: false,
        fields: &[
            f("Id", "id", "Profile ID"),
            f("Name", "string", "Name"),
            f("UserType", "picklist", "User Type"),
        ],
    },
    ObjectDef {
        name: "SandboxProcess",
        label: "Sandbox Process",
        plural: "Sandbox Processes",
        prefix: "0GR",
        createable: false,
        tooling_only: true,
        fields: &[
            f("Id", "id", "Sandbox Process ID"),
            f("SandboxName", "string", "Sandbox Name"),
            f("Status", "picklist", "Status"),
        ],
    },
    ObjectDef {
        name: "User",
        label: "User",
        plural: "Users",
        prefix: "005",
        createable: false,
        tooling_only: false,
        fields: &[
            f("Id", "id", "User ID"),
            f("Username", "string", "Username"),
            f("Name", "string", "Full Name"),
            f("FirstName", "string", "First Name"),
            f("LastName", "string", "Last Name"),
            f("Email", "email", "Email"),
            f("IsActive", "boolean", "Active"),
            r("ProfileId", "Profile ID", "Profile", "Profile"),
            f("UserType", "picklist", "User Type"),
        ],
    },
];

/// The object named `name` (case-insensitive) in the API (`tooling` or not).
pub(in crate::emulator::handlers) fn object(
    name: &str,
    tooling: bool,
) -> Option<&'static ObjectDef> {
    OBJECTS
        .iter()
        .find(|o| o.name.eq_ignore_ascii_case(name) && (tooling || !o.tooling_only))
}

/// `INVALID_TYPE` for an object the emulator does not serve, named as written.
pub(in crate::emulator::handlers) fn invalid_type(name: &str) -> RestError {
    RestError::new(
        "INVALID_TYPE",
        format!(
            "sObject type '{name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names."
        ),
    )
}

pub(in crate::emulator::handlers) fn invalid_field(field: &str, object: &str) -> RestError {
    RestError::new(
        "INVALID_FIELD",
        format!(
            "No such column '{field}' on entity '{object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
        ),
    )
}

pub(in crate::emulator::handlers) fn field<'a>(
    o: &'a ObjectDef,
    name: &str,
) -> Option<&'a FieldDef> {
    o.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

/// One record of an object before it is made into JSON: what it is drawn from.
#[derive(Clone, Copy)]
pub(in crate::emulator::handlers) enum Row<'a> {
    App(&'a App),
    /// An External Client App's header.
    Eca(&'a App, &'a EcaMeta),
    /// An External Client App's OAuth policies.
    EcaPolicy(&'a App, &'a EcaMeta, &'a Stored),
    Organization,
    PermissionSet(&'a PermissionSetRecord),
    /// The permission set profile `.0` (index) owns.
    ProfileSet(usize, &'a Profile),
    /// The assignment of permission set `ps` to the user with index `user_ix`.
    Assignment {
        ps: &'a PermissionSetRecord,
        user: &'a User,
        user_ix: usize,
    },
    /// The assignment of a user's profile's own permission set.
    ProfileAssignment {
        user: &'a User,
        user_ix: usize,
    },
    Profile(&'a Profile),
    User(&'a User),
}

fn eca(a: &App) -> Option<&EcaMeta> {
    a.meta.as_ref().and_then(AppMeta::eca)
}

/// The rows of `o`, in the order queries answer them: cheap to pass over (a later page of
/// a query starts where the one before it ended without making the records before it).
pub(in crate::emulator::handlers) fn rows<'a>(
    cfg: &'a Config,
    o: &ObjectDef,
) -> Box<dyn Iterator<Item = Row<'a>> + 'a> {
    match o.name {
        "ConnectedApplication" => Box::new(cfg.apps.iter().map(Row::App)),
        "ExternalClientApplication" => Box::new(
            cfg.apps
                .iter()
                .filter_map(|a| eca(a).map(|e| Row::Eca(a, e))),
        ),
        "ExtlClntAppOauthPlcyCnfg" => Box::new(cfg.apps.iter().filter_map(|a| {
            let e = eca(a)?;
            let p =
                e.part(crate::wire::metadata::MetadataType::ExtlClntAppOauthConfigurablePolicies)?;
            Some(Row::EcaPolicy(a, e, p))
        })),
        "Organization" => Box::new(std::iter::once(Row::Organization)),
        "PermissionSet" => Box::new(
            cfg.permission_sets.iter().map(Row::PermissionSet).chain(
                cfg.profiles
                    .iter()
                    .enumerate()
                    .map(|(i, p)| Row::ProfileSet(i, p)),
            ),
        ),
        "PermissionSetAssignment" => Box::new(cfg.users.iter().enumerate().flat_map(
            move |(user_ix, user)| {
                std::iter::once(Row::ProfileAssignment { user, user_ix }).chain(
                    user.permission_sets.iter().filter_map(move |&ps_ix| {
                        cfg.permission_sets.get(ps_ix).map(|ps| Row::Assignment {
                            ps,
                            user,
                            user_ix,
                        })
                    }),
                )
            },
        )),
        "Profile" => Box::new(cfg.profiles.iter().map(Row::Profile)),
        "User" => Box::new(cfg.users.iter().map(Row::User)),
        _ => Box::new(std::iter::empty()),
    }
}

/// The permission fields of a permission set with `p`.
fn permission_fields(p: Permissions, into: &mut Json) {
    if let Json::Object(m) = into {
        for perm in Permission::ALL {
            m.insert(perm.field(), Json::Bool(p.has(*perm)));
        }
    }
}

#[cfg(test)]
thread_local! {
    /// The records [`record`] made on this thread: the tests count the work of a query.
    pub(in crate::emulator::handlers) static MADE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The record of a row of `o`, every field set, with `attributes` for API `version`.
pub(in crate::emulator::handlers) fn record(
    cfg: &Config,
    o: &ObjectDef,
    version: &str,
    row: Row<'_>,
) -> Map<String, Json> {
    #[cfg(test)]
    MADE.with(|m| m.set(m.get() + 1));
    let rec = |id: &str, fields: Json| {
        let mut m = Map::new();
        m.insert(
            "attributes".into(),
            serde_json::to_value(Attributes::of(o.name, version, id)).unwrap_or(Json::Null),
        );
        if let Json::Object(f) = fields {
            m.extend(f);
        }
        m
    };
    match row {
        Row::App(a) => rec(&a.id, json!({"Id": a.id, "Name": a.name})),
        Row::Eca(a, e) => {
            let label = e
                .header
                .tree()
                .and_then(|t| t.text_at(&["label"]).map(str::to_owned))
                .unwrap_or_else(|| a.name.clone());
            rec(
                &e.header.id,
                json!({"Id": e.header.id, "DeveloperName": a.name, "MasterLabel": label,
                       "NamespacePrefix": null}),
            )
        }
        Row::EcaPolicy(a, e, p) => rec(
            &p.id,
            json!({"Id": p.id, "ExternalClientApplicationId": e.header.id,
            "PermittedUsersPolicyType": match a.permitted_users {
                PermittedUsers::AdminApproved => "AdminApprovedPreAuthorized",
                PermittedUsers::SelfAuthorize => "AllSelfAuthorized",
            }}),
        ),
        Row::Organization => rec(
            &cfg.org_id,
            json!({"Id": cfg.org_id, "Name": cfg.org_name, "InstanceName": "EMU1", "IsSandbox": cfg.sandbox,
                   "NamespacePrefix": null, "OrganizationType": "Developer Edition", "TrialExpirationDate": null}),
        ),
        Row::PermissionSet(p) => {
            let mut fields = json!({"Id": p.id, "Name": p.name, "Label": p.label,
                   "NamespacePrefix": p.namespace, "IsOwnedByProfile": false, "ProfileId": null});
            permission_fields(p.permissions, &mut fields);
            rec(&p.id, fields)
        }
        Row::ProfileSet(i, p) => {
            // The name and label a real org gives a profile's permission set are assumed.
            let id = profile_permission_set_id(i).unwrap_or_default();
            let mut fields = json!({"Id": id, "Name": format!("X{}", p.id), "Label": &p.id[..15],
                   "NamespacePrefix": null, "IsOwnedByProfile": true, "ProfileId": p.id});
            permission_fields(p.permissions, &mut fields);
            rec(&id, fields)
        }
        Row::Assignment { ps, user, user_ix } => {
            let id = assignment_id(ps, user_ix).unwrap_or_default();
            rec(
                &id,
                json!({"Id": id, "AssigneeId": user.id, "PermissionSetId": ps.id}),
            )
        }
        Row::ProfileAssignment { user, user_ix } => {
            let id = profile_assignment_id(user.profile, user_ix).unwrap_or_default();
            let ps = profile_permission_set_id(user.profile).unwrap_or_default();
            rec(
                &id,
                json!({"Id": id, "AssigneeId": user.id, "PermissionSetId": ps}),
            )
        }
        Row::Profile(p) => rec(
            &p.id,
            json!({"Id": p.id, "Name": p.name, "UserType": "Standard"}),
        ),
        Row::User(u) => {
            let (first, last) = match u.name.rsplit_once(' ') {
                Some((a, b)) => (Json::from(a), b),
                None => (Json::Null, u.name.as_str()),
            };
            rec(
                &u.id,
                json!({"Id": u.id, "Username": u.username, "Name": u.name, "FirstName": first,
                       "LastName": last, "Email": u.email, "IsActive": u.active,
                       "ProfileId": cfg.profiles.get(u.profile).map(|p| p.id.clone()),
                       "UserType": "Standard"}),
            )
        }
    }
}

/// The records of `o`, made one at a time as they are taken.
pub(in crate::emulator::handlers) fn records<'a>(
    cfg: &'a Config,
    o: &'a ObjectDef,
    version: &'a str,
) -> impl Iterator<Item = Map<String, Json>> + 'a {
    rows(cfg, o).map(move |row| record(cfg, o, version, row))
}
