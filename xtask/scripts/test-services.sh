#!/usr/bin/env bash
# Installs what the end-to-end tests start for real, when it is missing:
# headless Chromium (dashboard test), OpenSSH (SFTP pickup and upload),
# openssl (test certificates), aiosmtpd from PyPI (SMTP alert and e-mail
# tests), python3-venv and node/npm (componentize-py and componentize-js build
# the Python and JavaScript example plugins; `cargo xtask polyglot`). Debian packages need root (CI runs as root); without it, a missing
# tool is reported here and the test that needs it fails plainly under CI=true.
set -uo pipefail
apt_packages=()
[ -x /usr/bin/chromium ] || apt_packages+=(chromium)
{ [ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null; } || apt_packages+=(openssh-server)
command -v openssl >/dev/null || apt_packages+=(openssl)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || apt_packages+=(python3-venv python3-pip)
{ command -v node >/dev/null && command -v npm >/dev/null; } || apt_packages+=(nodejs npm)
if [ ${#apt_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing test services: ${apt_packages[*]}" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}" >/dev/null; } \
      || echo "warning: could not install ${apt_packages[*]}; the tests that need them will fail" >&2
  else
    echo "warning: missing ${apt_packages[*]} (install them with apt-get as root); the tests that need them will fail" >&2
  fi
fi
python3 -c 'import aiosmtpd' 2>/dev/null \
  || python3 -m pip install --quiet aiosmtpd 2>/dev/null \
  || python3 -m pip install --quiet --break-system-packages aiosmtpd \
  || echo "warning: could not install aiosmtpd from PyPI; the SMTP tests will fail" >&2
exit 0
