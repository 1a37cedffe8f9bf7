# Sourced by test/setup.sh and test/run.sh (which calls pnpm itself): puts the pnpm pinned in package.json on
# PATH. One already on PATH at that version is used as it is; otherwise it is installed into the
# checkout (.tmp/pnpm, no root and no global install needed) and that folder goes first on PATH, so
# the rest of the script and everything it starts find it.
nls_want_pnpm=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if [ "$(pnpm --version 2>/dev/null)" != "$nls_want_pnpm" ]; then
  if [ "$(.tmp/pnpm/node_modules/.bin/pnpm --version 2>/dev/null)" != "$nls_want_pnpm" ]; then
    echo "setup: installing pnpm@$nls_want_pnpm into .tmp/pnpm" >&2
    npm install --prefix .tmp/pnpm --no-save --no-package-lock --no-audit --no-fund "pnpm@$nls_want_pnpm" >&2 || return 1
  fi
  PATH="$PWD/.tmp/pnpm/node_modules/.bin:$PATH"
  export PATH
  hash -r
fi
unset nls_want_pnpm
