//! The enumerations of the Metadata API schema the component types use, each a Rust enum
//! whose XML text is its Salesforce spelling ([`xml_enum!`] makes the conversions). The
//! lists come from Salesforce's Metadata API reference (ConnectedApp, the External Client
//! App types, DeployResult) as summarised in `docs/emulator.md`.

/// An enum whose XML (and JSON) text is a fixed spelling per variant: `as_str`, `NAMES`,
/// `ALL`, `FromStr`, `Display`, `Serialize`, `Deserialize`.
macro_rules! xml_enum {
    ($(#[$doc:meta])* $name:ident as $schema:literal { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// The schema's name of this enumeration (as in Salesforce's error messages).
            pub const SCHEMA_NAME: &'static str = $schema;
            /// Every value, in the schema's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every value's spelling, in the schema's order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The value's spelling in XML and JSON.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::Error;
            fn from_str(s: &str) -> crate::Result<Self> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(crate::Error::invalid(
                        crate::error::Input::MetadataValue,
                        format!(
                            "`{}` is not a valid value for the enum '{}'",
                            crate::text::escape(other),
                            $schema
                        ),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                s.trim().parse().map_err(|_| {
                    serde::de::Error::custom(format!(
                        "'{}' is not a valid value for the enum '{}'",
                        s.trim(),
                        $schema
                    ))
                })
            }
        }
    };
}

xml_enum! {
    /// An OAuth scope: `ConnectedAppOauthAccessScope` (`oauthConfig/scopes`) and the names
    /// of an External Client App's `commaSeparatedOauthScopes`.
    OauthScope as "ConnectedAppOauthAccessScope" {
        /// Access the identity URL service (`id`, `profile`, `email`, `address`, `phone`).
        Basic = "Basic",
        /// Access and manage your data (`api`).
        Api = "Api",
        /// Access the Salesforce services through the web (`web`).
        Web = "Web",
        /// Full access (`full`).
        Full = "Full",
        /// Chatter REST API (`chatter_api`).
        Chatter = "Chatter",
        /// Custom applications (`visualforce`).
        CustomApplications = "CustomApplications",
        /// Perform requests at any time (`refresh_token`, `offline_access`).
        RefreshToken = "RefreshToken",
        /// OpenID Connect (`openid`).
        OpenId = "OpenID",
        /// The user's profile.
        Profile = "Profile",
        /// The user's email.
        Email = "Email",
        /// The user's address.
        Address = "Address",
        /// The user's phone.
        Phone = "Phone",
        /// Offline access.
        OfflineAccess = "OfflineAccess",
        /// Custom permissions.
        CustomPermissions = "CustomPermissions",
        /// Analytics REST API (API 35.0+).
        Wave = "Wave",
        /// Einstein Analytics (API 35.0+).
        Eclair = "Eclair",
        /// Pardot (API 49.0+).
        Pardot = "Pardot",
        /// Lightning applications (API 51.0+).
        Lightning = "Lightning",
        /// Content (API 51.0+).
        Content = "Content",
        /// Data Cloud ingestion (API 52.0+).
        CdpIngest = "CDPIngest",
        /// Chatbot (API 54.0+).
        Chatbot = "Chatbot",
        /// Forgot password (API 57.0+).
        ForgotPassword = "ForgotPassword",
        /// User registration (API 58.0+).
        UserRegistration = "UserRegistration",
        /// Passwordless login (API 59.0+).
        PwdlessLogin = "PwdlessLogin",
        /// Data Cloud profile.
        CdpProfile = "CDPProfile",
        /// Data Cloud query.
        CdpQuery = "CDPQuery",
        /// Data Cloud segment.
        CdpSegment = "CDPSegment",
        /// Data Cloud identity resolution.
        CdpIdentityResolution = "CDPIdentityResolution",
        /// Data Cloud calculated insight.
        CdpCalculatedInsight = "CDPCalculatedInsight",
        /// Salesforce API Platform.
        Sfap = "SFAP",
        /// Interaction.
        Interaction = "Interaction",
        /// Data Cloud.
        Cdp = "CDP",
        /// Einstein GPT.
        EinsteinGpt = "EinsteinGPT",
        /// The API platform (External Client Apps).
        SfApiPlatform = "SFApiPlatform",
        /// Model Context Protocol (External Client Apps).
        Mcp = "MCP",
        /// Salesforce Contact Center (External Client Apps).
        Scrt = "SCRT",
    }
}

impl OauthScope {
    /// The token-response spelling of the scope (`api`, `web`, `refresh_token`, ...), as a
    /// token's `scope` lists it.
    pub fn token_name(self) -> &'static str {
        match self {
            OauthScope::Basic => "id",
            OauthScope::Api => "api",
            OauthScope::Web => "web",
            OauthScope::Full => "full",
            OauthScope::Chatter => "chatter_api",
            OauthScope::CustomApplications => "visualforce",
            OauthScope::RefreshToken => "refresh_token",
            OauthScope::OpenId => "openid",
            OauthScope::Profile => "profile",
            OauthScope::Email => "email",
            OauthScope::Address => "address",
            OauthScope::Phone => "phone",
            OauthScope::OfflineAccess => "offline_access",
            OauthScope::CustomPermissions => "custom_permissions",
            OauthScope::Wave => "wave_api",
            OauthScope::Eclair => "eclair_api",
            OauthScope::Pardot => "pardot_api",
            OauthScope::Lightning => "lightning",
            OauthScope::Content => "content",
            OauthScope::CdpIngest => "cdp_ingest_api",
            OauthScope::Chatbot => "chatbot_api",
            OauthScope::ForgotPassword => "forgot_password",
            OauthScope::UserRegistration => "user_registration_api",
            OauthScope::PwdlessLogin => "pwdless_login_api",
            OauthScope::CdpProfile => "cdp_profile_api",
            OauthScope::CdpQuery => "cdp_query_api",
            OauthScope::CdpSegment => "cdp_segment_api",
            OauthScope::CdpIdentityResolution => "cdp_identityresolution_api",
            OauthScope::CdpCalculatedInsight => "cdp_calculated_insight_api",
            OauthScope::Sfap => "sfap_api",
            OauthScope::Interaction => "interaction_api",
            OauthScope::Cdp => "cdp_api",
            OauthScope::EinsteinGpt => "einstein_gpt_api",
            OauthScope::SfApiPlatform => "sfap_api",
            OauthScope::Mcp => "mcp_api",
            OauthScope::Scrt => "scrt_api",
        }
    }

    /// Whether the scope is a "standard scope other than refresh_token" that lets a JWT
    /// bearer grant issue a token (Salesforce's JWT flow help page): `Api` or `Full`, or
    /// any other except `RefreshToken` and `OfflineAccess`.
    pub fn grants_access(self) -> bool {
        !matches!(self, OauthScope::RefreshToken | OauthScope::OfflineAccess)
    }
}

xml_enum! {
    /// `ExtlClntAppOauthConfigurablePolicies/permittedUsersPolicyType`.
    PermittedUsersPolicyType as "PermittedUsersPolicyType" {
        /// "Admin approved users are pre-authorized".
        AdminApprovedPreAuthorized = "AdminApprovedPreAuthorized",
        /// "All users may self-authorize".
        AllSelfAuthorized = "AllSelfAuthorized",
    }
}

xml_enum! {
    /// `ConnectedApp/oauthPolicy/ipRelaxation`.
    IpRelaxation as "ConnectedAppOauthIpRelaxation" {
        /// Enforce IP restrictions (the default).
        Enforce = "ENFORCE",
        /// Relax IP restrictions with second factor.
        Bypass2Factor = "BYPASS_2FACTOR",
        /// Relax IP restrictions.
        Bypass = "BYPASS",
        /// Enforce, but relax for refresh tokens.
        EnforceRelaxRefresh = "ENFORCE_RELAXREFRESH",
    }
}

xml_enum! {
    /// `ExtlClntAppOauthConfigurablePolicies/ipRelaxationPolicyType`.
    IpRelaxationPolicyType as "IpRelaxationPolicyType" {
        /// Enforce IP restrictions.
        Enforce = "Enforce",
        /// Relax IP restrictions.
        Bypass = "Bypass",
        /// Relax IP restrictions with second factor.
        Bypass2Factor = "Bypass_2factor",
        /// Enforce, but relax for refresh tokens.
        EnforceRelaxRefresh = "Enforce_RelaxRefresh",
    }
}

xml_enum! {
    /// `ExtlClntAppOauthConfigurablePolicies/refreshTokenPolicyType`.
    RefreshTokenPolicyType as "RefreshTokenPolicyType" {
        /// Valid until revoked.
        Infinite = "Infinite",
        /// Expires after a period of inactivity.
        SpecificInactivity = "SpecificInactivity",
        /// Expires after a fixed lifetime.
        SpecificLifetime = "SpecificLifetime",
        /// Expires immediately.
        Zero = "Zero",
    }
}

xml_enum! {
    /// `ExtlClntAppOauthConfigurablePolicies/refreshTokenValidityUnit`.
    RefreshTokenValidityUnit as "RefreshTokenValidityUnit" {
        /// Days.
        Days = "Days",
        /// Hours.
        Hours = "Hours",
        /// Months.
        Months = "Months",
    }
}

xml_enum! {
    /// `ExtlClntAppOauthConfigurablePolicies/requiredSessionLevel`.
    SessionLevel as "RequiredSessionLevel" {
        /// High assurance (blocks API logins without a user-approval step, JWT included).
        HighAssurance = "HIGH_ASSURANCE",
        /// Low.
        Low = "LOW",
        /// Standard.
        Standard = "STANDARD",
    }
}

xml_enum! {
    /// `ExternalClientApplication/distributionState`.
    DistributionState as "DistributionState" {
        /// Local to the org.
        Local = "Local",
        /// Can be added to a second-generation managed package.
        Packaged = "Packaged",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for s in OauthScope::ALL {
            assert_eq!(s.as_str().parse::<OauthScope>().unwrap(), *s);
        }
        assert_eq!(OauthScope::NAMES.len(), OauthScope::ALL.len());
        assert_eq!(OauthScope::OpenId.as_str(), "OpenID");
        assert!("api".parse::<OauthScope>().is_err());
        assert_eq!(IpRelaxation::Bypass2Factor.to_string(), "BYPASS_2FACTOR");
        let v: PermittedUsersPolicyType = serde_json::from_str("\"AllSelfAuthorized\"").unwrap();
        assert_eq!(v, PermittedUsersPolicyType::AllSelfAuthorized);
        let e = serde_json::from_str::<OauthScope>("\"Bogus\"").unwrap_err();
        assert!(
            e.to_string().contains(
                "'Bogus' is not a valid value for the enum 'ConnectedAppOauthAccessScope'"
            ),
            "{e}"
        );
        assert!(!OauthScope::RefreshToken.grants_access());
        assert!(OauthScope::Api.grants_access());
    }
}
