#!/usr/bin/env bash
# Install what the source tests (tests/unit/sources) start as real servers, on Debian:
#   - Debian's chromium for the dashboard's browser tests (tests/e2e/test_dashboard_*.py);
#   - Debian's libpython3.11-testsuite: CPython's Lib/test, whose test_csv.py cases
#     tests/unit/formats/test_external_csv_packaged_suites.py reads as data;
#   - OpenSSH sshd (/usr/sbin/sshd, with ssh-keygen) and nginx (/usr/sbin/nginx), via apt only
#     when the binaries are missing; their system services are not started by the install;
#   - the local account the SFTP tests log in as ($FEEDSYNC_TEST_SFTP_USER, default
#     feedsync-sftp): a system user without home or shell whose password is set to the known
#     test value ($FEEDSYNC_TEST_SFTP_PASSWORD) so sshd's password authentication can be tested.
# Idempotent and quiet: a second run changes nothing and prints nothing.
set -euo pipefail

SFTP_USER="${FEEDSYNC_TEST_SFTP_USER:-feedsync-sftp}"
SFTP_PASSWORD="${FEEDSYNC_TEST_SFTP_PASSWORD:-feedsync-test-password}"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "test-servers.sh: must run as root (or with passwordless sudo)" >&2; exit 1
  fi
fi

missing=()
[ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-server)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
# The dashboard's browser tests drive Debian's Chromium (Playwright, executable_path).
[ -x /usr/bin/chromium ] || missing+=(chromium)
# CPython's csv tests, as Debian packages them for the project's Python (3.11).
[ -f /usr/lib/python3.11/test/test_csv.py ] || missing+=(libpython3.11-testsuite)

if [ "${#missing[@]}" -gt 0 ]; then
  # Keep apt from starting the system sshd/nginx services (port 22/80) during the install.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    trap '$SUDO rm -f "$policy"' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    $SUDO apt-get update -qq >/dev/null
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

if ! id -u "$SFTP_USER" >/dev/null 2>&1; then
  $SUDO useradd --system --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$SFTP_USER"
fi
# Setting the same password again is harmless, so re-runs stay no-ops in effect.
echo "$SFTP_USER:$SFTP_PASSWORD" | $SUDO chpasswd
