#!/bin/bash
# EC2 user data: installs and starts the PriceDrop headless predictor on first boot.
#
# Tested shape: Amazon Linux 2023 (dnf, AWS CLI preinstalled); Debian/Ubuntu work too (apt).
# The instance role must allow s3:GetObject on RELEASE_URI and BUNDLE_URI (build/ec2/iam-policy.json);
# no credentials are written anywhere: the AWS CLI and the server both use the instance role.
#
# Edit the four settings below (or prepend `export NAME=value` lines in the launch template), then
# paste this file as the instance's user data. docs/headless-server.md walks through it.
set -euo pipefail

# --- settings ---------------------------------------------------------------------------------
# The server release: a tar.gz of the folder `node build/server/build-server.mjs OUT` makes.
RELEASE_URI="${RELEASE_URI:-s3://CHANGE-ME-BUCKET/pricedrop/server-release.tar.gz}"
# The model bundle `pricedrop publish --out s3://…` writes; the server polls its ETag and swaps it in.
BUNDLE_URI="${BUNDLE_URI:-s3://CHANGE-ME-BUCKET/pricedrop/bundle.json.gz}"
PORT="${PORT:-8080}"
# Optional: an SSM SecureString parameter holding the API key for /api/* (empty: no key required).
API_KEY_PARAMETER="${API_KEY_PARAMETER:-}"
# Optional: the region of the bucket (default: the instance's region).
REGION="${REGION:-}"
# 1 when an ALB is in front: rate-limit by the balancer's X-Forwarded-For entry, not its address.
TRUST_PROXY="${TRUST_PROXY:-0}"

# For tests only: install under PREFIX and skip user creation and systemctl (see test/server/ec2-recipe.test.ts).
PREFIX="${PRICEDROP_PREFIX:-}"
DRY_RUN="${PRICEDROP_DRY_RUN:-0}"
# ------------------------------------------------------------------------------------------------

log() { echo "pricedrop-user-data: $*"; }
case "$RELEASE_URI$BUNDLE_URI" in *CHANGE-ME*) log "set RELEASE_URI and BUNDLE_URI first"; exit 1 ;; esac

if [ -z "$REGION" ] && [ "$DRY_RUN" != 1 ]; then
  # IMDSv2: a session token first, then the region of this instance.
  token="$(curl -fsS -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')"
  REGION="$(curl -fsS -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/placement/region)"
fi
export AWS_REGION="${REGION:-us-east-1}" AWS_DEFAULT_REGION="${REGION:-us-east-1}"

if [ "$DRY_RUN" != 1 ]; then
  log "installing Node.js 20 and the AWS CLI"
  if command -v dnf >/dev/null; then
    dnf install -y -q nodejs20 awscli-2 >/dev/null || dnf install -y -q nodejs awscli >/dev/null
    [ -x /usr/bin/node ] || ln -sf "$(command -v node-20 || command -v node)" /usr/bin/node
  elif command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs awscli >/dev/null
  fi
  node_major="$(node -p 'process.versions.node.split(".")[0]')"
  if [ "$node_major" -lt 20 ]; then log "Node.js $node_major is too old (the server needs 20 or later)"; exit 1; fi
  id pricedrop >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin pricedrop
fi

app="$PREFIX/opt/pricedrop-server"
etc="$PREFIX/etc/pricedrop"
log "fetching the server release $RELEASE_URI"
download="$(mktemp)"
aws s3 cp --only-show-errors "$RELEASE_URI" "$download"
rm -rf "$app.new"
mkdir -p "$app.new" "$etc"
tar -xzf "$download" -C "$app.new" --no-same-owner
rm -f "$download"
for file in server.mjs public/index.html pricedrop-server.service; do
  test -f "$app.new/$file" || { log "the release has no $file"; exit 1; }
done
rm -rf "$app" && mv "$app.new" "$app"
chmod -R a+rX,go-w "$app"

api_key=""
if [ -n "$API_KEY_PARAMETER" ]; then
  api_key="$(aws ssm get-parameter --with-decryption --name "$API_KEY_PARAMETER" --query Parameter.Value --output text)"
fi

# The server reads these (model/server/main.ts); the key file is readable by root only (systemd loads it).
umask 077
cat > "$etc/server.env" <<ENV
PRICEDROP_BUNDLE=$BUNDLE_URI
PRICEDROP_HOST=0.0.0.0
PRICEDROP_PORT=$PORT
PRICEDROP_POLL_SECONDS=60
PRICEDROP_TRUST_PROXY=$TRUST_PROXY
AWS_REGION=$AWS_REGION
NODE_ENV=production
ENV
if [ -n "$api_key" ]; then
  printf 'PRICEDROP_API_KEY_ENV=PRICEDROP_API_KEY\nPRICEDROP_API_KEY=%s\n' "$api_key" >> "$etc/server.env"
fi
umask 022

# The unit ships in the release (build/ec2/pricedrop-server.service), so it always matches the server.
unit_dir="$PREFIX/etc/systemd/system"
mkdir -p "$unit_dir"
install -m 0644 "$app/pricedrop-server.service" "$unit_dir/pricedrop-server.service"

if [ "$DRY_RUN" != 1 ]; then
  systemctl daemon-reload
  systemctl enable --now pricedrop-server.service
  for _ in $(seq 1 30); do
    if curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null; then log "serving on port $PORT"; exit 0; fi
    sleep 2
  done
  log "the server did not answer /health; see: journalctl -u pricedrop-server"
  exit 1
fi
log "dry run: installed under $PREFIX"
