#!/usr/bin/env python3
"""Generate a deterministic planted test set for secret scanners.

    python3 bench/secrets/planted.py OUT_DIR [--seed N] [--per-format N]

Writes OUT_DIR/tree/... (the files to scan) and OUT_DIR/manifest.jsonl, one JSON object per
line: {"file", "line", "end_line", "format", "category", "expected", "context"}.
`expected: true` lines hold a fake but well-formed credential (a scanner should report a finding
whose start line is in [line, end_line]); `expected: false` lines are decoys (placeholders,
documented example keys, environment lookups, lockfile hashes, UUIDs, commit SHAs, GitHub tokens
with a wrong checksum) on which no finding should start.

Every value is random (seeded), generated at run time and never committed. Formats follow the
providers' public descriptions: prefixes, lengths, alphabets, and checksums where the format has
one (GitHub and npm tokens: the last 6 characters are the base62 CRC32 of the random part).
The set was written from the providers' formats, not from any scanner's rules.
"""

import argparse
import base64
import json
import os
import random
import shutil
import string
import sys
import uuid
import zlib

UPPER = string.ascii_uppercase
LOWER = string.ascii_lowercase
DIGITS = string.digits
ALNUM = UPPER + LOWER + DIGITS
BASE62 = DIGITS + UPPER + LOWER  # GitHub's checksum alphabet order
HEX = "0123456789abcdef"
B64URL = ALNUM + "-_"
B64 = ALNUM + "+/"
BASE32 = UPPER + "234567"
BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"

R = random.Random(0)


def rs(alpha, n):
    return "".join(R.choice(alpha) for _ in range(n))


def rs_mixed(alpha, n):
    """Random string that has at least one upper, one lower and one digit when the alphabet does."""
    while True:
        s = rs(alpha, n)
        need = [c for c in (UPPER, LOWER, DIGITS) if set(c) & set(alpha)]
        if all(set(s) & set(c) for c in need):
            return s


def b62(n, width=6):
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = BASE62[r] + out
    return out.rjust(width, "0")


def crc_token(prefix, body_len=30):
    body = rs_mixed(ALNUM, body_len)
    return prefix + body + b62(zlib.crc32(body.encode()))


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def digits(n, first="123456789"):
    return R.choice(first) + rs(DIGITS, n - 1)


def ruuid():
    return str(uuid.UUID(int=R.getrandbits(128), version=4))


def password(n=None):
    n = n or R.randint(16, 26)
    return rs_mixed(ALNUM + "!*-_.~", n)


# ---------------------------------------------------------------- formats
# Each format: (id, category, env var name (or a tuple to pick from per instance), provider name
# for prose, generator, keyword-bound).
# keyword-bound formats have no distinctive prefix: a scanner needs the variable name, so they
# are only placed where the variable name (holding the provider keyword) is on the same line.


def jwt():
    alg = R.choice(["HS256", "RS256"])
    hdr = {"alg": alg, "typ": "JWT"}
    if alg == "RS256":
        hdr["kid"] = rs(ALNUM, 16)
    now = R.randint(1_700_000_000, 1_760_000_000)
    payload = {
        "sub": ruuid() if R.random() < 0.5 else str(R.randint(10_000, 9_999_999)),
        "name": R.choice(["Ada Lovelace", "Grace Hopper", "Alan Turing", "svc-billing"]),
        "iss": R.choice(["https://auth.acme-corp.io", "https://login.northwind.dev/", "api"]),
        "aud": R.choice(["billing-api", "https://api.acme-corp.io", "mobile"]),
        "iat": now,
        "exp": now + R.choice([900, 3600, 86400 * 30]),
        "scope": R.choice(["read write", "admin", "orders:read"]),
    }
    sig = R.randbytes(32 if alg == "HS256" else 256)
    return ".".join(b64url(json.dumps(p, separators=(",", ":")).encode()) for p in (hdr, payload)) + "." + b64url(sig)


def discord_bot():
    # a Discord snowflake user id: 18 digits, or 19 starting with 1 (base64 "M", "N" or "O")
    uid = digits(18, "23456789") if R.random() < 0.4 else "1" + rs(DIGITS, 18)
    return b64url(uid.encode()) + "." + rs(B64URL, 6) + "." + rs_mixed(B64URL, R.choice([27, 38]))


def azure_conn():
    acct = R.choice(["acmeprod", "northwindlogs", "stbilling", "contosoassets"]) + rs(LOWER + DIGITS, 4)
    key = base64.b64encode(R.randbytes(64)).decode()
    return f"DefaultEndpointsProtocol=https;AccountName={acct};AccountKey={key};EndpointSuffix=core.windows.net"


def sentry_org():
    body = {"iat": R.randint(1_700_000_000, 1_760_000_000), "url": "https://sentry.io",
            "region_url": "https://us.sentry.io", "org": R.choice(["acme", "northwind", "contoso"])}
    return "sntrys_" + b64url(json.dumps(body, separators=(",", ":")).encode()) + "_" + rs(B64URL[:-2] + "+/", 43)


def grafana_cloud():
    body = {"o": str(R.randint(100000, 999999)), "n": "stack-" + str(R.randint(100000, 999999)) + "-hm-read",
            "k": rs_mixed(ALNUM, 24), "m": {"r": R.choice(["us", "eu", "prod-us-east-0"])}}
    return "glc_" + base64.b64encode(json.dumps(body, separators=(",", ":")).encode()).decode()


def onepassword():
    body = {"signInAddress": "acme.1password.com", "userAuth": {"method": "SRPg-4096", "alg": "PBES2g-HS256",
            "iterations": 650000, "salt": b64url(R.randbytes(16))}, "email": rs(LOWER, 13) + "@1passwordserviceaccounts.com",
            "srpX": R.randbytes(32).hex(), "muk": {"alg": "A256GCM", "ext": True, "k": b64url(R.randbytes(32)),
            "key_ops": ["encrypt", "decrypt"], "kty": "oct", "kid": "mp"}, "secretKey": "A3-" + rs(UPPER + DIGITS, 6) + "-" + rs(UPPER + DIGITS, 6),
            "throttleSecret": {"seed": R.randbytes(32).hex(), "uuid": rs(UPPER + DIGITS, 26)}, "deviceUuid": rs(LOWER + DIGITS, 26)}
    return "ops_" + b64url(json.dumps(body, separators=(",", ":")).encode())


def mapbox():
    body = {"u": R.choice(["acme-maps", "northwind", "jdoe"]), "a": rs(LOWER + DIGITS, 25)}
    return "sk." + b64url(json.dumps(body, separators=(",", ":")).encode()) + "." + rs_mixed(B64URL, 22)


def pypi():
    raw = b"\x02\x01\x08pypi.org\x02\x24" + str(uuid.UUID(int=R.getrandbits(128), version=4)).encode() + \
        b"\x00\x02\x2a[1,[\"version\",1]]\x00\x06\x20" + R.randbytes(32)
    return "pypi-" + b64url(raw)


def jfrog_ref():
    raw = f"reftkn:01:{R.randint(1_900_000_000, 2_100_000_000)}:{rs_mixed(ALNUM, 27)}".encode()
    return base64.b64encode(raw).decode().rstrip("=")


def django_key():
    return "django-insecure-" + rs(LOWER + DIGITS + "!@#$%^&*(-_=+)", 50)


def db_host():
    return R.choice(["db.internal.acme-corp.io", "10.20.3.14", "billing-db.c9xkq2.eu-west-1.rds.amazonaws.com",
                     "pg-primary.prod.svc.cluster.local", "mysql-01.northwind.lan"])


def user():
    return R.choice(["app_user", "billing", "svc_orders", "admin", "deploy", "reporting_ro", "webapp"])


def pw_url():
    return rs_mixed(ALNUM, R.randint(16, 24))


FORMATS = [
    # (id, category, env var, provider, generator, keyword_bound)
    ("aws-access-key-id", "cloud", "AWS_ACCESS_KEY_ID", "AWS", lambda: "AKIA" + rs(BASE32, 16), False),
    ("aws-secret-access-key", "cloud", "AWS_SECRET_ACCESS_KEY", "AWS", lambda: rs_mixed(B64, 40), True),
    ("aws-temp-access-key-id", "cloud", "AWS_ACCESS_KEY_ID", "AWS STS", lambda: "ASIA" + rs(BASE32, 16), False),
    ("gcp-api-key", "cloud", "GOOGLE_API_KEY", "Google Cloud", lambda: "AIza" + rs_mixed(B64URL, 35), False),
    ("google-oauth-client-secret", "cloud", "GOOGLE_CLIENT_SECRET", "Google OAuth", lambda: "GOCSPX-" + rs_mixed(B64URL, 28), False),
    ("azure-storage-connection-string", "cloud", "AZURE_STORAGE_CONNECTION_STRING", "Azure Storage", azure_conn, False),
    ("azure-ad-client-secret", "cloud", "AZURE_CLIENT_SECRET", "Azure AD",
     lambda: rs(ALNUM, 3) + R.choice(DIGITS) + "Q~" + rs_mixed(ALNUM + "_.~-", 34), False),
    ("digitalocean-pat", "cloud", "DIGITALOCEAN_TOKEN", "DigitalOcean", lambda: "dop_v1_" + rs(HEX, 64), False),
    ("digitalocean-oauth", "cloud", "DO_OAUTH_TOKEN", "DigitalOcean", lambda: "doo_v1_" + rs(HEX, 64), False),
    ("heroku-api-key-v2", "cloud", "HEROKU_API_KEY", "Heroku", lambda: "HRKU-AA" + rs_mixed(B64URL, 58), False),
    ("heroku-api-key-uuid", "cloud", "HEROKU_API_KEY", "Heroku", ruuid, True),
    ("alibaba-access-key-id", "cloud", "ALIBABA_CLOUD_ACCESS_KEY_ID", "Alibaba Cloud", lambda: "LTAI" + rs_mixed(ALNUM, 20), False),
    ("cloudflare-origin-ca-key", "cloud", "CF_ORIGIN_CA_KEY", "Cloudflare", lambda: "v1.0-" + rs(HEX, 24) + "-" + rs(HEX, 146), False),
    ("cloudflare-api-token", "cloud", "CLOUDFLARE_API_TOKEN", "Cloudflare", lambda: rs_mixed(B64URL, 40), True),
    ("databricks-token", "cloud", "DATABRICKS_TOKEN", "Databricks", lambda: "dapi" + rs(HEX, 32), False),
    ("doppler-token", "cloud", "DOPPLER_TOKEN", "Doppler", lambda: "dp.pt." + rs_mixed(ALNUM, 43), False),
    ("vault-service-token", "cloud", "VAULT_TOKEN", "HashiCorp Vault", lambda: "hvs.CAESI" + rs_mixed(B64URL, 86), False),
    ("terraform-cloud-token", "cloud", "TFE_TOKEN", "Terraform Cloud",
     lambda: rs_mixed(ALNUM, 14) + ".atlasv1." + rs_mixed(ALNUM, 67), False),
    ("pulumi-access-token", "cloud", "PULUMI_ACCESS_TOKEN", "Pulumi", lambda: "pul-" + rs(HEX, 40), False),
    ("flyio-token", "cloud", "FLY_API_TOKEN", "Fly.io", lambda: "fo1_" + rs_mixed(B64URL, 43), False),
    ("supabase-pat", "cloud", "SUPABASE_ACCESS_TOKEN", "Supabase", lambda: "sbp_" + rs(HEX, 40), False),
    ("planetscale-token", "cloud", "PLANETSCALE_SERVICE_TOKEN", "PlanetScale", lambda: "pscale_tkn_" + rs_mixed(B64URL, 43), False),
    ("planetscale-password", "cloud", "PLANETSCALE_PASSWORD", "PlanetScale", lambda: "pscale_pw_" + rs_mixed(B64URL, 43), False),
    ("netlify-pat", "cloud", "NETLIFY_AUTH_TOKEN", "Netlify", lambda: "nfp_" + rs_mixed(ALNUM, 36), False),
    ("render-api-key", "cloud", "RENDER_API_KEY", "Render", lambda: "rnd_" + rs_mixed(ALNUM, 32), False),
    ("tailscale-auth-key", "cloud", "TS_AUTHKEY", "Tailscale",
     lambda: "tskey-auth-k" + rs_mixed(ALNUM, 10) + "CNTRL-" + rs_mixed(ALNUM, 33), False),
    ("github-pat-classic", "vcs", "GITHUB_TOKEN", "GitHub", lambda: crc_token("ghp_"), False),
    ("github-oauth-token", "vcs", "GH_OAUTH_TOKEN", "GitHub", lambda: crc_token("gho_"), False),
    ("github-server-to-server", "vcs", "GH_APP_TOKEN", "GitHub", lambda: crc_token("ghs_"), False),
    ("github-user-to-server", "vcs", "GH_USER_TOKEN", "GitHub", lambda: crc_token("ghu_"), False),
    ("github-pat-fine-grained", "vcs", "GITHUB_PAT", "GitHub",
     lambda: "github_pat_11" + rs(UPPER + DIGITS, 20) + "_" + rs_mixed(ALNUM, 59), False),
    ("gitlab-pat", "vcs", "GITLAB_TOKEN", "GitLab", lambda: "glpat-" + rs_mixed(B64URL, 20), False),
    ("gitlab-runner-token", "vcs", "CI_RUNNER_TOKEN", "GitLab", lambda: "glrt-" + rs_mixed(B64URL, 20), False),
    ("gitlab-deploy-token", "vcs", "GITLAB_DEPLOY_TOKEN", "GitLab", lambda: "gldt-" + rs_mixed(B64URL, 20), False),
    ("gitlab-pipeline-trigger", "vcs", "GITLAB_TRIGGER_TOKEN", "GitLab", lambda: "glptt-" + rs(HEX, 40), False),
    ("atlassian-api-token", "vcs", "JIRA_API_TOKEN", "Atlassian",
     lambda: "ATATT3xFfGF0" + rs_mixed(B64URL, 171) + "=" + rs(HEX.upper(), 8), False),
    ("azure-devops-pat", "vcs", "AZURE_DEVOPS_PAT", "Azure DevOps", lambda: rs(LOWER + "234567", 52), True),
    ("sourcegraph-token", "vcs", "SRC_ACCESS_TOKEN", "Sourcegraph", lambda: "sgp_" + rs(HEX, 16) + "_" + rs(HEX, 40), False),
    ("slack-bot-token", "chat", "SLACK_BOT_TOKEN", "Slack",
     lambda: "xoxb-" + digits(R.choice([11, 12])) + "-" + digits(R.choice([12, 13])) + "-" + rs_mixed(ALNUM, 24), False),
    ("slack-user-token", "chat", "SLACK_USER_TOKEN", "Slack",
     lambda: "xoxp-" + digits(11) + "-" + digits(11) + "-" + digits(13) + "-" + rs(HEX, 32), False),
    ("slack-app-token", "chat", "SLACK_APP_TOKEN", "Slack",
     lambda: "xapp-1-A" + rs(UPPER + DIGITS, 10) + "-" + digits(13) + "-" + rs(HEX, 64), False),
    ("slack-webhook", "chat", "SLACK_WEBHOOK_URL", "Slack",
     lambda: "https://hooks.slack.com/services/T" + rs(UPPER + DIGITS, 8) + "/B" + rs(UPPER + DIGITS, 10) + "/" + rs_mixed(ALNUM, 24), False),
    ("discord-bot-token", "chat", "DISCORD_BOT_TOKEN", "Discord", discord_bot, False),
    ("discord-webhook", "chat", "DISCORD_WEBHOOK_URL", "Discord",
     lambda: "https://discord.com/api/webhooks/" + digits(19) + "/" + rs_mixed(B64URL, 68), False),
    ("telegram-bot-token", "chat", "TELEGRAM_BOT_TOKEN", "Telegram",
     lambda: digits(R.choice([9, 10])) + ":AA" + rs_mixed(B64URL, 33), False),
    ("twilio-api-key", "chat", "TWILIO_API_KEY", "Twilio", lambda: "SK" + rs(HEX, 32), False),
    ("twilio-auth-token", "chat", "TWILIO_AUTH_TOKEN", "Twilio", lambda: rs(HEX, 32), True),
    ("sendgrid-api-key", "email", "SENDGRID_API_KEY", "SendGrid",
     lambda: "SG." + rs_mixed(B64URL, 22) + "." + rs_mixed(B64URL, 43), False),
    ("mailgun-api-key", "email", "MAILGUN_API_KEY", "Mailgun", lambda: "key-" + rs(HEX, 32), False),
    ("mailchimp-api-key", "email", "MAILCHIMP_API_KEY", "Mailchimp", lambda: rs(HEX, 32) + "-us" + str(R.randint(1, 21)), False),
    ("brevo-api-key", "email", "BREVO_API_KEY", "Brevo", lambda: "xkeysib-" + rs(HEX, 64) + "-" + rs_mixed(ALNUM, 16), False),
    ("resend-api-key", "email", "RESEND_API_KEY", "Resend", lambda: "re_" + rs_mixed(ALNUM, 8) + "_" + rs_mixed(ALNUM, 24), False),
    ("stripe-secret-key", "payment", "STRIPE_SECRET_KEY", "Stripe",
     lambda: "sk_live_" + (rs_mixed(ALNUM, 24) if R.random() < 0.4 else "51" + rs_mixed(ALNUM, 97)), False),
    ("stripe-restricted-key", "payment", "STRIPE_RESTRICTED_KEY", "Stripe",
     lambda: "rk_live_" + (rs_mixed(ALNUM, 24) if R.random() < 0.4 else "51" + rs_mixed(ALNUM, 97)), False),
    ("stripe-webhook-secret", "payment", "STRIPE_WEBHOOK_SECRET", "Stripe", lambda: "whsec_" + rs_mixed(ALNUM, 32), False),
    ("square-access-token", "payment", "SQUARE_ACCESS_TOKEN", "Square", lambda: "EAAA" + rs_mixed(B64URL, 60), False),
    ("square-oauth-secret", "payment", "SQUARE_OAUTH_SECRET", "Square", lambda: "sq0csp-" + rs_mixed(B64URL, 43), False),
    ("shopify-access-token", "payment", "SHOPIFY_ACCESS_TOKEN", "Shopify", lambda: "shpat_" + rs(HEX, 32), False),
    ("shopify-shared-secret", "payment", "SHOPIFY_API_SECRET", "Shopify", lambda: "shpss_" + rs(HEX, 32), False),
    ("razorpay-live-key", "payment", "RAZORPAY_KEY_ID", "Razorpay", lambda: "rzp_live_" + rs_mixed(ALNUM, 14), False),
    ("flutterwave-secret-key", "payment", "FLW_SECRET_KEY", "Flutterwave", lambda: "FLWSECK-" + rs(HEX, 32) + "-X", False),
    ("plaid-access-token", "payment", "PLAID_ACCESS_TOKEN", "Plaid", lambda: "access-production-" + ruuid(), False),
    ("shippo-api-token", "payment", "SHIPPO_API_TOKEN", "Shippo", lambda: "shippo_live_" + rs(HEX, 40), False),
    ("duffel-api-token", "payment", "DUFFEL_ACCESS_TOKEN", "Duffel", lambda: "duffel_live_" + rs_mixed(B64URL, 43), False),
    ("openai-api-key", "ai", "OPENAI_API_KEY", "OpenAI",
     lambda: "sk-proj-" + rs_mixed(B64URL, 74) + "T3BlbkFJ" + rs_mixed(B64URL, 74), False),
    ("openai-svcacct-key", "ai", "OPENAI_API_KEY", "OpenAI",
     lambda: "sk-svcacct-" + rs_mixed(B64URL, 74) + "T3BlbkFJ" + rs_mixed(B64URL, 74), False),
    ("openai-legacy-key", "ai", "OPENAI_API_KEY", "OpenAI", lambda: "sk-" + rs_mixed(ALNUM, 20) + "T3BlbkFJ" + rs_mixed(ALNUM, 20), False),
    ("anthropic-api-key", "ai", "ANTHROPIC_API_KEY", "Anthropic", lambda: "sk-ant-api03-" + rs_mixed(B64URL, 93) + "AA", False),
    ("huggingface-token", "ai", "HF_TOKEN", "Hugging Face", lambda: "hf_" + rs_mixed(UPPER + LOWER, 34), False),
    ("groq-api-key", "ai", "GROQ_API_KEY", "Groq", lambda: "gsk_" + rs_mixed(ALNUM, 52), False),
    ("xai-api-key", "ai", "XAI_API_KEY", "xAI", lambda: "xai-" + rs_mixed(ALNUM, 80), False),
    ("replicate-api-token", "ai", "REPLICATE_API_TOKEN", "Replicate", lambda: "r8_" + rs_mixed(ALNUM, 37), False),
    ("perplexity-api-key", "ai", "PERPLEXITY_API_KEY", "Perplexity", lambda: "pplx-" + rs_mixed(ALNUM, 48), False),
    ("openrouter-api-key", "ai", "OPENROUTER_API_KEY", "OpenRouter", lambda: "sk-or-v1-" + rs(HEX, 64), False),
    ("langsmith-api-key", "ai", "LANGSMITH_API_KEY", "LangSmith", lambda: "lsv2_pt_" + rs(HEX, 32) + "_" + rs(HEX, 10), False),
    ("npm-access-token", "registry", "NPM_TOKEN", "npm", lambda: crc_token("npm_"), False),
    ("pypi-upload-token", "registry", "PYPI_TOKEN", "PyPI", pypi, False),
    ("rubygems-api-key", "registry", "GEM_HOST_API_KEY", "RubyGems", lambda: "rubygems_" + rs(HEX, 48), False),
    ("nuget-api-key", "registry", "NUGET_API_KEY", "NuGet", lambda: "oy2" + rs(LOWER + DIGITS, 43), False),
    ("crates-io-token", "registry", "CARGO_REGISTRY_TOKEN", "crates.io", lambda: "cio" + rs_mixed(ALNUM, 32), False),
    ("docker-hub-pat", "registry", "DOCKERHUB_TOKEN", "Docker Hub", lambda: "dckr_pat_" + rs_mixed(B64URL, 27), False),
    ("jfrog-reference-token", "registry", "JFROG_ACCESS_TOKEN", "JFrog", jfrog_ref, False),
    ("grafana-service-account", "observability", "GRAFANA_TOKEN", "Grafana", lambda: "glsa_" + rs_mixed(ALNUM, 32) + "_" + rs(HEX, 8), False),
    ("grafana-cloud-token", "observability", "GRAFANA_CLOUD_TOKEN", "Grafana Cloud", grafana_cloud, False),
    ("new-relic-user-key", "observability", "NEW_RELIC_API_KEY", "New Relic", lambda: "NRAK-" + rs(UPPER + DIGITS, 27), False),
    ("new-relic-license-key", "observability", "NEW_RELIC_LICENSE_KEY", "New Relic", lambda: rs(HEX, 36) + "NRAL", False),
    ("sentry-user-token", "observability", "SENTRY_AUTH_TOKEN", "Sentry", lambda: "sntryu_" + rs(HEX, 64), False),
    ("sentry-org-token", "observability", "SENTRY_AUTH_TOKEN", "Sentry", sentry_org, False),
    ("datadog-api-key", "observability", "DD_API_KEY", "Datadog", lambda: rs(HEX, 32), True),
    ("dynatrace-token", "observability", "DT_API_TOKEN", "Dynatrace",
     lambda: "dt0c01." + rs(UPPER + DIGITS, 24) + "." + rs(UPPER + DIGITS, 64), False),
    ("postman-api-key", "saas", "POSTMAN_API_KEY", "Postman", lambda: "PMAK-" + rs(HEX, 24) + "-" + rs(HEX, 34), False),
    ("linear-api-key", "saas", "LINEAR_API_KEY", "Linear", lambda: "lin_api_" + rs_mixed(ALNUM, 40), False),
    ("notion-token", "saas", "NOTION_TOKEN", "Notion", lambda: "ntn_" + rs(DIGITS, 11) + rs_mixed(ALNUM, 35), False),
    ("airtable-pat", "saas", "AIRTABLE_TOKEN", "Airtable", lambda: "pat" + rs_mixed(ALNUM, 14) + "." + rs(HEX, 64), False),
    ("figma-pat", "saas", "FIGMA_TOKEN", "Figma", lambda: "figd_" + rs_mixed(B64URL, 40), False),
    ("hubspot-private-app", "saas", "HUBSPOT_ACCESS_TOKEN", "HubSpot", lambda: "pat-na1-" + ruuid(), False),
    ("contentful-pat", "saas", "CONTENTFUL_MANAGEMENT_TOKEN", "Contentful", lambda: "CFPAT-" + rs_mixed(B64URL, 43), False),
    ("dropbox-token", "saas", "DROPBOX_ACCESS_TOKEN", "Dropbox", lambda: "sl." + rs_mixed(B64URL, 135), False),
    ("onepassword-service-account", "saas", "OP_SERVICE_ACCOUNT_TOKEN", "1Password", onepassword, False),
    ("mapbox-secret-token", "saas", "MAPBOX_SECRET_TOKEN", "Mapbox", mapbox, False),
    ("prefect-api-key", "saas", "PREFECT_API_KEY", "Prefect", lambda: "pnu_" + rs_mixed(ALNUM, 36), False),
    ("readme-api-key", "saas", "README_API_KEY", "ReadMe", lambda: "rdme_" + rs(LOWER + DIGITS, 70), False),
    ("clickup-api-token", "saas", "CLICKUP_API_TOKEN", "ClickUp", lambda: "pk_" + digits(8) + "_" + rs(UPPER + DIGITS, 32), False),
    ("easypost-api-key", "saas", "EASYPOST_API_KEY", "EasyPost", lambda: "EZAK" + rs_mixed(ALNUM, 54), False),
    ("okta-api-token", "saas", "OKTA_API_TOKEN", "Okta", lambda: "00" + rs_mixed(B64URL, 40), True),
    ("age-secret-key", "keys", "SOPS_AGE_KEY", "age", lambda: "AGE-SECRET-KEY-1" + rs(BECH32, 58), False),
    ("jwt", "keys", "AUTH_TOKEN", "JWT", jwt, False),
    ("postgres-url", "database", "DATABASE_URL", "PostgreSQL",
     lambda: f"{R.choice(['postgres', 'postgresql'])}://{user()}:{pw_url()}@{db_host()}:5432/{R.choice(['billing', 'app', 'orders'])}", False),
    ("mysql-url", "database", "MYSQL_URL", "MySQL", lambda: f"mysql://{user()}:{pw_url()}@{db_host()}:3306/{R.choice(['shop', 'wp', 'crm'])}", False),
    ("mongodb-url", "database", "MONGODB_URI", "MongoDB",
     lambda: f"mongodb+srv://{user()}:{pw_url()}@cluster0.{rs(LOWER + DIGITS, 5)}.mongodb.net/{R.choice(['prod', 'events'])}?retryWrites=true&w=majority", False),
    ("redis-url", "database", "REDIS_URL", "Redis", lambda: f"rediss://default:{pw_url()}@{db_host()}:6380/0", False),
    ("amqp-url", "database", "AMQP_URL", "RabbitMQ", lambda: f"amqps://{user()}:{pw_url()}@{db_host()}:5671/prod", False),
    ("django-secret-key", "generic", ("SECRET_KEY", "DJANGO_SECRET_KEY"), "Django", django_key, False),
    ("laravel-app-key", "generic", "APP_KEY", "Laravel", lambda: "base64:" + base64.b64encode(R.randbytes(32)).decode(), True),
    ("rails-secret-key-base", "generic", "SECRET_KEY_BASE", "Rails", lambda: rs(HEX, 128), True),
    ("generic-db-password", "generic", "DB_PASSWORD", "the database", password, True),
    ("generic-api-secret", "generic", "PAYMENTS_API_SECRET", "the payments gateway", lambda: rs_mixed(ALNUM, 40), True),
]

# ---------------------------------------------------------------- private keys (multi-line)


def der_rsa():
    return bytes.fromhex("308204a40201000282010100") + R.randbytes(1180)


def der_ec():
    return bytes.fromhex("30770201010420") + R.randbytes(32) + bytes.fromhex("a00a06082a8648ce3d030107a14403420004") + R.randbytes(64)


def der_pkcs8():
    return bytes.fromhex("308204bd020100300d06092a864886f70d0101010500048204a7") + R.randbytes(1191)


def openssh_body():
    def s(b):
        return len(b).to_bytes(4, "big") + b
    pub = R.randbytes(32)
    pubblob = s(b"ssh-ed25519") + s(pub)
    check = R.randbytes(4)
    priv = check + check + s(b"ssh-ed25519") + s(pub) + s(R.randbytes(32) + pub) + s(b"deploy@ci-runner-07") + b"\x01\x02\x03\x04\x05"
    return b"openssh-key-v1\x00" + s(b"none") + s(b"none") + s(b"") + (1).to_bytes(4, "big") + s(pubblob) + s(priv)


KEYS = [
    ("private-key-rsa", "RSA PRIVATE KEY", der_rsa, 64),
    ("private-key-ec", "EC PRIVATE KEY", der_ec, 64),
    ("private-key-pkcs8", "PRIVATE KEY", der_pkcs8, 64),
    ("private-key-openssh", "OPENSSH PRIVATE KEY", openssh_body, 70),
]


def pem(label, der, width):
    b = base64.b64encode(der).decode()
    return [f"-----BEGIN {label}-----"] + [b[i:i + width] for i in range(0, len(b), width)] + [f"-----END {label}-----"]


# ---------------------------------------------------------------- decoys


def wrong_checksum(prefix):
    body = rs_mixed(ALNUM, 30)
    good = b62(zlib.crc32(body.encode()))
    while True:
        bad = rs(ALNUM, 6)
        if bad != good:
            return prefix + body + bad


def sha40():
    return rs(HEX, 40)


# (kind, file types allowed, line text); `{}` placeholders are filled at generation time
def decoy_lines():
    d = []
    # placeholders
    for t in ["AWS_SECRET_ACCESS_KEY=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
              "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
              "SLACK_BOT_TOKEN=xoxb-xxxxxxxxxxxx-xxxxxxxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx",
              "STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
              "OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
              "API_KEY=XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
              "OPENAI_API_KEY=<your-openai-api-key>",
              "API_KEY=your_api_key_here",
              "SENDGRID_API_KEY=YOUR_SENDGRID_API_KEY",
              "DB_PASSWORD=changeme",
              "POSTGRES_PASSWORD=CHANGE_ME",
              "ADMIN_PASSWORD=********",
              "DATABASE_URL=postgres://${DB_USER}:${DB_PASSWORD}@db:5432/app",
              "DATABASE_URL=postgres://user:password@localhost:5432/mydb",
              "GITHUB_TOKEN=${GITHUB_TOKEN}",
              "ANTHROPIC_API_KEY=sk-ant-...",
              "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
              "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
              "REDIS_URL=redis://:${REDIS_PASSWORD}@redis:6379/0",
              ]:
        d.append(("placeholder" if "EXAMPLE" not in t else "documented-example", "env", t))
    for t in ["    api_key: <your-key>",
              "    password: \"{{ .Values.postgresql.auth.password }}\"",
              "    apiKey: {{ .Values.secrets.apiKey | b64enc | quote }}",
              "    db_password: \"{{ vault_db_password }}\"",
              "    GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}",
              "    NPM_TOKEN: ${{ secrets.NPM_TOKEN }}",
              "    password: ${{ secrets.DOCKERHUB_TOKEN }}",
              "    token: ${SLACK_TOKEN}",
              "    password: changeme",
              "    secret: \"****\"",
              "    stripe_key: sk_live_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
              "    aws_access_key_id: AKIAIOSFODNN7EXAMPLE",
              "    aws_secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
              "    connection: \"Server=tcp:{{ .Values.db.host }};Password={{ .Values.db.password }};\"",
              "    webhook: https://hooks.slack.com/services/TXXXXXXXX/BXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXXXX",
              ]:
        d.append(("documented-example" if "EXAMPLE" in t else "placeholder", "yaml", t))
    for t in ['api_key = os.environ["API_KEY"]',
              'token = os.getenv("GITHUB_TOKEN")',
              'secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "")',
              'STRIPE_KEY = env("STRIPE_SECRET_KEY")',
              'password = "your-password-here"',
              'openai.api_key = "<OPENAI_API_KEY>"',
              'AWS_KEY = "AKIAIOSFODNN7EXAMPLE"',
              'DB_URL = f"postgresql://{user}:{password}@{host}/{name}"',
              'SECRET_KEY = "django-insecure-CHANGE-ME"',
              'auth = ("admin", "********")',
              ]:
        kind = "env-lookup" if "environ" in t or "getenv" in t or "env(" in t else (
            "documented-example" if "EXAMPLE" in t else "placeholder")
        d.append((kind, "py", t))
    for t in ["const stripeKey = process.env.STRIPE_KEY;",
              "const token = process.env.GITHUB_TOKEN || '';",
              "  apiKey: process.env.OPENAI_API_KEY,",
              "const password = 'changeme';",
              "const key = '<your-api-key>';",
              "const slack = `https://hooks.slack.com/services/${SLACK_TEAM}/${SLACK_CHANNEL}/${SLACK_SECRET}`;",
              ]:
        d.append(("env-lookup" if "process.env" in t else "placeholder", "js", t))
    for t in ['secret := os.Getenv("AWS_SECRET_ACCESS_KEY")',
              'token, ok := os.LookupEnv("GITHUB_TOKEN")',
              'var apiKey = os.Getenv("DD_API_KEY")',
              'const placeholderToken = "REPLACE_WITH_YOUR_TOKEN"',
              ]:
        d.append(("env-lookup" if "env" in t.lower() and "os." in t else "placeholder", "go", t))
    for t in ["ARG NPM_TOKEN",
              'RUN echo "//registry.npmjs.org/:_authToken=${NPM_TOKEN}" > .npmrc',
              "ENV API_KEY=$API_KEY",
              "ENV DB_PASSWORD=changeme",
              "ENV AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
              ]:
        d.append(("documented-example" if "EXAMPLE" in t else "placeholder", "dockerfile", t))
    for t in ["Set `OPENAI_API_KEY=<your-key>` before running the examples.",
              "Replace `ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx` with your own token.",
              "The AWS example key pair is `AKIAIOSFODNN7EXAMPLE` / `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`.",
              "    curl -H \"Authorization: Bearer $API_TOKEN\" https://api.example.com/v1/orders",
              "    export STRIPE_SECRET_KEY=sk_test_your_key_here",
              ]:
        d.append(("documented-example" if "EXAMPLE" in t else "placeholder", "md", t))
    for t in ['  "apiKey": "YOUR_API_KEY",',
              '  "password": "${DB_PASSWORD}",',
              '  "token": "{{ secrets.DEPLOY_TOKEN }}",',
              ]:
        d.append(("placeholder", "json", t))
    return d


def dynamic_decoys():
    """Decoys with random parts: UUIDs, git SHAs, wrong-checksum GitHub tokens."""
    d = []
    for _ in range(6):
        d.append(("uuid", "yaml", f"    request_id: {ruuid()}"))
        d.append(("uuid", "json", f'  "correlationId": "{ruuid()}",'))
        d.append(("uuid", "py", f'TENANT_ID = "{ruuid()}"'))
        d.append(("git-sha", "yaml", f"      - uses: actions/checkout@{sha40()}  # v4.2.2"))
        d.append(("git-sha", "json", f'  "gitHead": "{sha40()}",'))
        d.append(("git-sha", "dockerfile", f"RUN git clone https://github.com/acme/tools.git && cd tools && git checkout {sha40()}"))
        d.append(("git-sha", "md", f"Fixed in commit {sha40()}."))
    for p in ["ghp_", "gho_", "ghs_", "ghp_", "ghu_", "ghp_"]:
        d.append(("github-wrong-checksum", "env", f"GITHUB_TOKEN={wrong_checksum(p)}"))
        d.append(("github-wrong-checksum", "yaml", f"    github_token: {wrong_checksum(p)}"))
    return d


# ---------------------------------------------------------------- rendering contexts


def names(env):
    snake = env.lower()
    parts = snake.split("_")
    camel = parts[0] + "".join(p.title() for p in parts[1:])
    return env, snake, camel


def q(v):
    return json.dumps(v)


# Formats that are not sent as `Authorization: Bearer …` (signing keys, key ids, secrets used with
# basic auth or their own headers): no Bearer-header context for them.
NO_BEARER = {"aws-access-key-id", "aws-temp-access-key-id", "azure-storage-connection-string", "azure-ad-client-secret",
             "google-oauth-client-secret", "alibaba-access-key-id", "cloudflare-origin-ca-key", "twilio-api-key",
             "mailgun-api-key", "mailchimp-api-key", "stripe-webhook-secret", "shopify-shared-secret", "square-oauth-secret",
             "new-relic-license-key", "planetscale-password", "age-secret-key", "django-secret-key", "laravel-app-key",
             "discord-bot-token", "razorpay-live-key"}


def render(ctx, fmt, value):
    """One line holding `value` in file type `ctx`."""
    fid, cat, env, prov, _, kw = fmt
    E, s, c = names(env)
    url = value.startswith(("http", "postgres", "mysql", "mongodb", "redis", "amqp"))
    bearer = not kw and not url and fid not in NO_BEARER
    if ctx == "py":
        opts = [f"{E} = {q(value)}", f"{s} = {q(value)}", f'settings["{s}"] = {q(value)}']
        if url:
            opts.append(f"engine = create_engine({q(value)})")
        elif fid == "discord-bot-token":
            opts.append(f'headers = {{"Authorization": "Bot {value}"}}')
        if bearer:
            opts += [f"client = Client(api_key={q(value)})", f'headers = {{"Authorization": "Bearer {value}"}}']
        return R.choice(opts)
    if ctx == "js":
        opts = [f"const {c} = '{value}';", f"export const {E} = \"{value}\";", f"config.{c} = '{value}';"]
        if bearer:
            opts.append(f"axios.defaults.headers.common['Authorization'] = `Bearer {value}`;")
        return R.choice(opts)
    if ctx == "go":
        C = c[0].upper() + c[1:]
        opts = [f"const {C} = {q(value)}", f"var {c} = {q(value)}", f"\t{c} := {q(value)}"]
        if bearer:
            opts.append(f'\treq.Header.Set("Authorization", "Bearer {value}")')
        return R.choice(opts)
    if ctx == "yaml":
        return R.choice([f"    {s}: {value}" if not url and ": " not in value and not value.startswith(("-", "*", "&", "!", "@", "%", "`")) else f"    {s}: {q(value)}",
                         f"    {s}: {q(value)}"])
    if ctx == "json":
        return f'  "{c if R.random() < 0.5 else s}": {q(value)},'
    if ctx == "env":
        return R.choice([f"{E}={value}", f'{E}="{value}"', f"export {E}={value}" if "&" not in value else f'export {E}="{value}"'])
    if ctx == "dockerfile":
        return R.choice([f"ENV {E}={value}" if "&" not in value else f'ENV {E}="{value}"', f'ARG {E}="{value}"',
                         f'ENV {E}="{value}"'])
    if ctx == "md-prose":
        opts = [f"Set `{E}` to `{value}` in the CI settings."]
        if not kw:
            opts += [f"- {prov} ({E.lower()}): `{value}`",
                     f"The {prov} credential for staging is `{value}`; rotate it after the demo."]
        return R.choice(opts)
    if ctx == "md-code":
        return R.choice([f"export {E}={value}" if "&" not in value else f"export {E}='{value}'",
                         f"{E}={value}" if "&" not in value else f"{E}='{value}'"])
    raise ValueError(ctx)


SINGLE_CTX = ["py", "js", "go", "yaml", "json", "env", "dockerfile", "md-prose", "md-code"]
# Framework signing keys live in their framework's settings, the environment and deployment
# files, not in code of another language.
CONTEXTS = {
    "django-secret-key": ["py", "env", "yaml", "dockerfile", "md-code", "py", "json", "md-prose"],
    "rails-secret-key-base": ["env", "yaml", "dockerfile", "md-code", "json", "md-prose"],
    "laravel-app-key": ["env", "yaml", "dockerfile", "md-code", "json", "md-prose"],
}
KEY_CTX = ["pem", "yaml", "json", "py", "js", "go", "md-code", "env"]

FILE_OF_CTX = {"md-prose": "md", "md-code": "md"}


class File:
    def __init__(self, path, kind):
        self.path, self.kind, self.lines, self.entries = path, kind, [], []

    def add(self, line, entry=None):
        self.lines.append(line)
        if entry is not None:
            self.entries.append(dict(entry, line=len(self.lines), end_line=len(self.lines)))

    def add_block(self, lines, entry, first=0, last=None):
        start = len(self.lines) + 1
        self.lines.extend(lines)
        last = len(lines) - 1 if last is None else last
        self.entries.append(dict(entry, line=start + first, end_line=start + last))


FILLER = {
    "py": ["", "log = logging.getLogger(__name__)", "TIMEOUT_SECONDS = 30", "RETRIES = 3",
           "# Service configuration", "DEBUG = False", "ALLOWED_HOSTS = [\"api.acme-corp.io\"]",
           'REGION = "eu-west-1"', "BATCH_SIZE = 500"],
    "js": ["", "const axios = require('axios');", "const TIMEOUT_MS = 30000;", "// service configuration",
           "module.exports = config;", "const region = 'us-east-1';", "function retry(fn) { return fn(); }"],
    "go": ["", "// Settings for the billing client.", "const timeoutSeconds = 30", "var retries = 3",
           "const region = \"eu-central-1\""],
    "yaml": ["", "  replicas: 2", "  image: ghcr.io/acme/billing:1.4.2", "  region: eu-west-1", "  timeout: 30s",
             "  # credentials used by the worker"],
    "json": ['  "timeout": 30,', '  "region": "us-east-1",', '  "retries": 3,', '  "debug": false,'],
    "env": ["", "# staging", "LOG_LEVEL=info", "PORT=8080", "NODE_ENV=production", "REGION=eu-west-1"],
    "dockerfile": ["", "RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates",
                   "WORKDIR /app", "COPY . .", "EXPOSE 8080", "RUN pip install --no-cache-dir -r requirements.txt"],
    "md": ["", "This service reads its configuration at start-up.", "See the runbook for rotation steps.",
           "Ask #platform for access."],
}

HEADERS = {
    "py": ['"""Service settings."""', "import logging", "import os", ""],
    "js": ["'use strict';", "const config = {};", ""],
    "go": ["package config", "", 'import "os"', ""],
    "yaml": ["app:", "  name: billing"],
    "json": ["{", '  "name": "billing-service",'],
    "env": ["# environment for the service"],
    "dockerfile": ["FROM python:3.12-slim", ""],
    "md": ["# Setup", "", "How to run this service locally.", ""],
}
FOOTERS = {"go": ["", "func init() {", "\t_ = os.Getenv", "}"], "json": ['  "version": "1.0.0"', "}"], "js": ["", "module.exports = config;"]}

PATHS = {
    "py": ["app/settings_{}.py", "services/billing/config_{}.py", "scripts/deploy_{}.py"],
    "js": ["web/src/config_{}.js", "functions/api/keys_{}.ts", "web/server_{}.js"],
    "go": ["internal/config/creds_{}.go", "cmd/worker/env_{}.go"],
    "yaml": ["deploy/values_{}.yaml", "ci/pipeline_{}.yml", "config/app_{}.yaml"],
    "json": ["config/settings_{}.json", "functions/runtime_{}.json"],
    "env": ["svc{}/.env", "svc{}/.env.production", "env/staging_{}.env"],
    "dockerfile": ["docker/svc{}/Dockerfile", "images/worker{}/Dockerfile"],
    "md": ["docs/setup_{}.md", "docs/runbook_{}.md"],
    "pem": ["certs/server_{}.key", "keys/deploy_{}.pem", "ssh/id_{}"],
}


def generate(out, per_format):
    tree = os.path.join(out, "tree")
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(tree)
    items = {k: [] for k in HEADERS}  # file kind -> list of (ctx, fmt, value) or block builders
    pems = []
    n_ctx = len(SINGLE_CTX)
    for i, fmt0 in enumerate(FORMATS):
        for j in range(per_format):
            fmt = fmt0
            if fmt[0] in CONTEXTS:
                ctx = CONTEXTS[fmt[0]][j % len(CONTEXTS[fmt[0]])]
            else:
                ctx = SINGLE_CTX[(i * 3 + j * 2) % n_ctx] if j < n_ctx else R.choice(SINGLE_CTX)
            value = fmt[4]()
            if isinstance(fmt[2], tuple):
                fmt = fmt[:2] + (R.choice(fmt[2]),) + fmt[3:]
            if fmt[0] == "aws-access-key-id":  # AWS keys come in pairs: id then secret
                items[FILE_OF_CTX.get(ctx, ctx)].append(("pair", ctx, fmt, value, FORMATS[1], FORMATS[1][4]()))
            elif fmt[0] == "aws-secret-access-key":
                continue  # planted with its id
            else:
                items[FILE_OF_CTX.get(ctx, ctx)].append(("one", ctx, fmt, value))
    for i, (fid, label, gen, width) in enumerate(KEYS):
        for j in range(per_format + 2):
            ctx = KEY_CTX[(i + j) % len(KEY_CTX)]
            block = pem(label, gen(), width)
            entry = {"format": fid, "category": "keys", "expected": True, "context": ctx}
            if ctx == "pem":
                pems.append((block, entry))
            else:
                items[FILE_OF_CTX.get(ctx, ctx)].append(("key", ctx, entry, block))
    # GCP service-account key files: JSON with an escaped PKCS#8 key
    gcp = []
    for k in range(per_format):
        block = pem("PRIVATE KEY", der_pkcs8(), 64)
        gcp.append((k, block))
    for dkind, ctx, line in decoy_lines() + dynamic_decoys():
        items[ctx].append(("decoy", dkind, line))

    manifest = []
    files = []
    for kind, lst in items.items():
        R.shuffle(lst)
        per_file = 14
        for fno in range(0, len(lst), per_file):
            chunk = lst[fno:fno + per_file]
            tmpl = PATHS[kind][(fno // per_file) % len(PATHS[kind])]
            f = File(tmpl.format(fno // per_file + 1), kind)
            for h in HEADERS[kind]:
                f.add(h)
            for it in chunk:
                if R.random() < 0.6:
                    f.add(R.choice(FILLER[kind]))
                if it[0] == "decoy":
                    f.add(it[2], {"format": "decoy", "category": "decoy", "expected": False,
                                  "context": kind, "decoy_kind": it[1]})
                elif it[0] == "one":
                    _, ctx, fmt, value = it
                    entry = {"format": fmt[0], "category": fmt[1], "expected": True, "context": ctx}
                    if ctx == "md-code":
                        f.add("```bash")
                        f.add(render(ctx, fmt, value), entry)
                        f.add("```")
                    else:
                        f.add(render(ctx, fmt, value), entry)
                elif it[0] == "pair":
                    _, ctx, fmt, value, fmt2, value2 = it
                    if ctx == "md-code":
                        f.add("```bash")
                    f.add(render(ctx, fmt, value), {"format": fmt[0], "category": fmt[1], "expected": True, "context": ctx})
                    line2 = render(ctx, fmt2, value2)
                    if ctx == "md-prose":  # the secret needs its name on the line
                        line2 = f"Set `{fmt2[2]}` to `{value2}` in the CI settings."
                    f.add(line2, {"format": fmt2[0], "category": fmt2[1], "expected": True, "context": ctx})
                    if ctx == "md-code":
                        f.add("```")
                elif it[0] == "key":
                    _, ctx, entry, block = it
                    add_key(f, ctx, entry, block)
            for foot in FOOTERS.get(kind, []):
                f.add(foot)
            files.append(f)
    for n, (block, entry) in enumerate(pems):
        f = File(PATHS["pem"][n % 3].format(n + 1), "pem")
        f.add_block(block, entry)
        files.append(f)
    for k, block in gcp:
        f = File(f"secrets/gcp-sa-{k + 1}.json", "json")
        proj = R.choice(["acme-prod", "northwind-data", "contoso-ml"]) + "-" + str(R.randint(100000, 999999))
        f.add("{")
        # the whole key file is one credential: a finding on any line from "type" to
        # "private_key" counts
        f.add_block(['  "type": "service_account",', f'  "project_id": "{proj}",',
                     f'  "private_key_id": "{rs(HEX, 40)}",', f'  "private_key": {q(chr(10).join(block) + chr(10))},'],
                    {"format": "gcp-service-account-key", "category": "keys", "expected": True, "context": "json"})
        f.add(f'  "client_email": "deployer@{proj}.iam.gserviceaccount.com",')
        f.add(f'  "client_id": "{digits(21)}",')
        f.add('  "auth_uri": "https://accounts.google.com/o/oauth2/auth",')
        f.add('  "token_uri": "https://oauth2.googleapis.com/token"')
        f.add("}")
        files.append(f)
    files += lockfiles()
    seen = set()
    for f in files:
        assert f.path not in seen, f.path
        seen.add(f.path)
        p = os.path.join(tree, f.path)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as fh:
            fh.write("\n".join(f.lines) + "\n")
        lines_used = set()
        for e in f.entries:
            assert e["line"] not in lines_used, (f.path, e)
            lines_used.add(e["line"])
            manifest.append(dict(file=f.path, **e))
    with open(os.path.join(out, "manifest.jsonl"), "w") as fh:
        for e in manifest:
            fh.write(json.dumps(e, sort_keys=True) + "\n")
    return manifest, files


def add_key(f, ctx, entry, block):
    n = len(block)
    if ctx == "yaml":
        f.add("  tls_key: |")
        f.add_block(["    " + b for b in block], entry)
    elif ctx == "json":
        f.add(f'  "private_key": {q(chr(10).join(block) + chr(10))},', entry)
    elif ctx == "py":
        f.add_block([f'PRIVATE_KEY = """{block[0]}'] + block[1:-1] + [block[-1] + '"""'], entry)
    elif ctx == "js":
        f.add_block([f"const privateKey = `{block[0]}"] + block[1:-1] + [block[-1] + "`;"], entry)
    elif ctx == "go":
        f.add_block([f"const signingKey = `{block[0]}"] + block[1:-1] + [block[-1] + "`"], entry)
    elif ctx == "md-code":
        f.add("```")
        f.add_block(block, entry)
        f.add("```")
    elif ctx == "env":
        f.add('PRIVATE_KEY="' + "\\n".join(block) + '\\n"', entry)
    else:
        raise ValueError(ctx)
    assert n > 2


def lockfiles():
    """Lockfiles whose every hash line is a decoy."""
    out = []
    f = File("web/package-lock.json", "json")
    f.add("{")
    f.add('  "name": "web",')
    f.add('  "lockfileVersion": 3,')
    f.add('  "packages": {')
    pkgs = ["lodash", "react", "react-dom", "axios", "express", "debug", "ms", "chalk", "semver", "uuid"]
    for k, name in enumerate(pkgs):
        f.add(f'    "node_modules/{name}": {{')
        f.add(f'      "version": "{R.randint(1, 18)}.{R.randint(0, 20)}.{R.randint(0, 9)}",')
        f.add(f'      "resolved": "https://registry.npmjs.org/{name}/-/{name}-1.0.0.tgz",')
        f.add(f'      "integrity": "sha512-{base64.b64encode(R.randbytes(64)).decode()}"' + ("," if k % 2 else ""),
              {"format": "decoy", "category": "decoy", "expected": False, "context": "json", "decoy_kind": "lockfile-hash"})
        if k % 2:
            f.add('      "license": "MIT"')
        f.add("    }" + ("," if k < len(pkgs) - 1 else ""))
    f.add("  }")
    f.add("}")
    out.append(f)
    g = File("cmd/worker/go.sum", "gosum")
    for mod in ["github.com/aws/aws-sdk-go-v2", "github.com/google/uuid", "golang.org/x/crypto", "golang.org/x/net",
                "github.com/stretchr/testify", "gopkg.in/yaml.v3"]:
        ver = f"v{R.randint(0, 2)}.{R.randint(0, 40)}.{R.randint(0, 9)}"
        g.add(f"{mod} {ver} h1:{base64.b64encode(R.randbytes(32)).decode()}",
              {"format": "decoy", "category": "decoy", "expected": False, "context": "gosum", "decoy_kind": "lockfile-hash"})
        g.add(f"{mod} {ver}/go.mod h1:{base64.b64encode(R.randbytes(32)).decode()}",
              {"format": "decoy", "category": "decoy", "expected": False, "context": "gosum", "decoy_kind": "lockfile-hash"})
    out.append(g)
    y = File("web/yarn.lock", "yarnlock")
    y.add("# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.")
    y.add("# yarn lockfile v1")
    for name in ["ansi-styles", "balanced-match", "brace-expansion", "picomatch"]:
        y.add("")
        y.add(f'{name}@^2.0.0:')
        y.add('  version "2.0.1"')
        y.add(f'  resolved "https://registry.yarnpkg.com/{name}/-/{name}-2.0.1.tgz#{rs(HEX, 40)}"',
              {"format": "decoy", "category": "decoy", "expected": False, "context": "yarnlock", "decoy_kind": "lockfile-hash"})
        y.add(f"  integrity sha512-{base64.b64encode(R.randbytes(64)).decode()}",
              {"format": "decoy", "category": "decoy", "expected": False, "context": "yarnlock", "decoy_kind": "lockfile-hash"})
    out.append(y)
    c = File("tools/Cargo.lock", "cargolock")
    c.add("version = 3")
    for name in ["anyhow", "serde", "regex", "memchr"]:
        c.add("")
        c.add("[[package]]")
        c.add(f'name = "{name}"')
        c.add('version = "1.0.0"')
        c.add('source = "registry+https://github.com/rust-lang/crates.io-index"')
        c.add(f'checksum = "{rs(HEX, 64)}"',
              {"format": "decoy", "category": "decoy", "expected": False, "context": "cargolock", "decoy_kind": "lockfile-hash"})
    out.append(c)
    r = File("services/billing/requirements.txt", "requirements")
    for name in ["requests==2.32.3", "boto3==1.35.90", "cryptography==43.0.3"]:
        r.add(f"{name} \\")
        r.add(f"    --hash=sha256:{rs(HEX, 64)}",
              {"format": "decoy", "category": "decoy", "expected": False, "context": "requirements", "decoy_kind": "lockfile-hash"})
    out.append(r)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=20260)
    ap.add_argument("--per-format", type=int, default=5)
    a = ap.parse_args()
    R.seed(a.seed)
    manifest, files = generate(a.out, a.per_format)
    pos = [m for m in manifest if m["expected"]]
    neg = [m for m in manifest if not m["expected"]]
    fmts = {m["format"] for m in pos}
    kinds = sorted({os.path.splitext(f.path)[1] or os.path.basename(f.path) for f in files})
    print(f"{a.out}/tree: {len(files)} files ({' '.join(kinds)}), {len(pos)} planted secrets in {len(fmts)} formats, "
          f"{len(neg)} decoys; manifest {a.out}/manifest.jsonl", file=sys.stderr)


if __name__ == "__main__":
    main()
