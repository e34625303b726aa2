#!/usr/bin/env bash
# Regenerates the committed fuzz seeds that are not fixtures: assertions signed with the
# fixture key (fixtures/keys/base.pkcs8.pem, whose certificate the fuzz targets trust),
# raw HTTP requests for the emulator, token/error/identity bodies and a manifest.
# Needs openssl. The seeds are inputs for the fuzzer, not tests: any change is fine.
set -euo pipefail
cd "$(dirname "$0")"
key=../../fixtures/keys/base.pkcs8.pem
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
sign() { # header-json claims-json -> compact JWS
  local h c s
  h=$(printf '%s' "$1" | b64url)
  c=$(printf '%s' "$2" | b64url)
  s=$(printf '%s.%s' "$h" "$c" | openssl dgst -sha256 -sign "$key" | b64url)
  printf '%s.%s.%s' "$h" "$c" "$s"
}
GRANT='urn:ietf:params:oauth:grant-type:jwt-bearer'
GRANT_ENC='urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer'
bare='{"alg":"RS256"}'
typ='{"alg":"RS256","typ":"JWT"}'
# exp 1800000100 suits emulator_validate (its clock is 1800000000); 4000000000 (2096) suits
# emulator_http, whose clock is the real one.
ok_v='{"iss":"KEY_MAIN","sub":"alice@example.com","aud":"https://login.salesforce.com","exp":1800000100}'
self_v='{"iss":"KEY_SELF","prn":"alice@example.com","aud":["https://acme.my.salesforce.com"],"exp":"1800000100","iat":1800000000}'
site_v='{"iss":"KEY_MAIN","sub":"bob@example.com","aud":"https://acme.my.site.com/customers/","exp":1800000000123,"nbf":1}'
ok_h='{"iss":"KEY","sub":"alice@example.com","aud":"https://login.salesforce.com","exp":4000000000}'

# Keep the inputs of past fuzz failures (regression-*); regenerate the rest.
for d in jwt_parse emulator_validate emulator_http token_response manifest_parse; do
  [ -d "$d" ] && find "$d" -type f ! -name 'regression-*' -delete
done
mkdir -p jwt_parse emulator_validate emulator_http token_response manifest_parse

sign "$bare" "$ok_v" > jwt_parse/valid
sign "$typ" "$self_v" > jwt_parse/typ-prn-array
printf 'eyJhbGciOiJub25lIn0.%s.' "$(printf '%s' "$ok_v" | b64url)" > jwt_parse/alg-none
printf 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiAiM01WRyJ9.AAAA==' > jwt_parse/padded

v() { printf "$1" > "emulator_validate/$2"; cat >> "emulator_validate/$2"; }
sign "$bare" "$ok_v" | v '\x00\x00' raw-valid
sign "$typ" "$self_v" | v '\x00\x00' raw-self
sign "$bare" "$site_v" | v '\x00\x01' raw-site
printf '%s' "$ok_v" | v '\x01\x00' signed-claims
printf '%s' "$self_v" | v '\x01\x00' signed-self
printf '%s' "$site_v" | v '\x01\x01' signed-site
printf '%s' '{"iss":"KEY_ECA","sub":"carol@example.com","aud":"https://test.salesforce.com","exp":5}' | v '\x01\x00' signed-eca
{ printf '%s\n' "$GRANT"; sign "$bare" "$ok_v"; } | v '\x02\x00' grant-and-assertion
printf 'password\nx.y.z' | v '\x02\x00' wrong-grant

assertion=$(sign "$bare" "$ok_h")
body="grant_type=$GRANT_ENC&assertion=$assertion"
req() { local n=$1; shift; printf "$@" > "emulator_http/$n"; }
req token-post 'POST /services/oauth2/token HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s' "${#body}" "$body"
req token-chunked 'POST /services/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n' "${#body}" "$body"
req token-query 'POST /services/oauth2/token?grant_type=%s&assertion=%s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n' "$GRANT_ENC" "$assertion"
req token-get 'GET /services/oauth2/token HTTP/1.1\r\nHost: x\r\n\r\n'
req token-json 'POST /services/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}'
req identity 'GET /id/00DEMULATOR0001/005EMULATOR0001 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer @TOKEN@\r\n\r\n'
req userinfo 'GET /services/oauth2/userinfo HTTP/1.1\r\nHost: x\r\nAuthorization: OAuth @TOKEN@\r\n\r\nGET /services/oauth2/userinfo?oauth_token=@TOKEN@ HTTP/1.1\r\nHost: x\r\n\r\n'
req data 'GET //services//data/ HTTP/1.1\r\nHost: x\r\n\r\nGET /services/data/v66.0/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer @TOKEN@\r\n\r\n'
req query 'GET /services/data/v60.0/query?q=SELECT+Name+FROM+Organization HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer @TOKEN@\r\n\r\nGET /services/data/latest/sobjects/User/005EMULATOR0001 HTTP/1.1\r\nAuthorization: Bearer @TOKEN@\r\n\r\n'
req bad-token 'GET /services/data/v66.0/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer 00DEMULATOR0001!AAAA\r\n\r\n'
req root 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
soap='<?xml version="1.0"?><e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header><SessionHeader><sessionId>@TOKEN@</sessionId></SessionHeader></e:Header><e:Body><readMetadata><type>ExtlClntAppGlobalOauthSettings</type><fullNames>eca_glbloauth</fullNames></readMetadata></e:Body></e:Envelope>'
req soap-read 'POST /services/Soap/m/66.0 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nSOAPAction: ""\r\nContent-Length: %d\r\n\r\n%s' "${#soap}" "$soap"
req delete 'DELETE /services/data/v66.0/sobjects/PermissionSetAssignment/0PaP00000000001KAA HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer @TOKEN@\r\n\r\n'
req garbage 'GARBAGE\r\n\r\n'
req http10 'GET /services/data HTTP/1.0\r\n\r\n'

printf '%s' '{"access_token":"00Dxx0000001gPL!AR8AQJXg5oj8jXSgxJfA0lBog.39AsX.LVpxezPwuX5VAIrrbbHMuol7GQxnMeYMN7cj8EoWr78nT1yBx1W1WwXyZ","scope":"api web","instance_url":"https://acme.my.salesforce.com","id":"https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS","token_type":"Bearer"}' > token_response/granted
printf '%s' '{"access_token":"00DEMULATOR0001!abc","instance_url":"http://127.0.0.1:8080","id":"http://127.0.0.1:8080/id/00DEMULATOR0001EAA/005EMULATOR0001AAA","token_type":"Bearer","issued_at":"1"}' > token_response/emulator
for e in 'invalid_grant|user hasn'"'"'t approved this consumer' 'invalid_grant|audience is invalid' 'invalid_grant|expired authorization code' 'invalid_client_id|client identifier invalid' 'invalid_grant|invalid assertion' 'unsupported_grant_type|grant type not supported' 'invalid_app_access|user is not admin approved to access this app'; do
  n=${e%%|*}; d=${e#*|}
  printf '{"error":"%s","error_description":"%s"}' "$n" "$d" > "token_response/error-$n-${#d}"
done
printf '%s' '{"id":"https://login.salesforce.com/id/00D/005","username":"alice@example.com","user_id":"005","organization_id":"00D","display_name":"Alice","active":true}' > token_response/identity
printf '%s' '{"sub":"x","preferred_username":"alice@example.com","name":"Alice A"}' > token_response/userinfo

cat > manifest_parse/manifest.toml <<'TOML'
# certmint manifest
format = 1
stem = "server"
alias = "acme_jwt"
subject = "/C=US/O=Acme/CN=acme-jwt"
days = 365
p12_profile = "modern"
current = "g1-2026-11-28"

[salesforce]
client_id = "3MVG9"
username = "alice@example.com"
login_url = "login"

[[generation]]
dir = "g1-2026-11-28"
number = 1
origin = "init"
status = "complete"
created = "2026-11-28T00:00:00Z"
key_bits = 2048
public_key_sha256 = "AA:BB"

[generation.certificate]
subject = "CN=acme-jwt"
serial = "01:02"
not_before = "2026-11-28T00:00:00Z"
not_after = "2027-11-28T00:00:00Z"
sha1 = "AA"
sha256 = "BB"

[generation.files.certificate]
name = "server.crt"
sha256 = "00"

[generation.files.jks]
name = "server.jks"
sha256 = "11"

[[generation]]
dir = "g2-2027-11-01"
number = 2
origin = "renew"
status = "pending"
created = "2027-11-01T00:00:00Z"
key_bits = 2048
key_from = "g1-2026-11-28"
TOML
echo "seeds: done"
