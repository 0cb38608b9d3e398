# Lading in a container image: `docker build -t lading .`, then
#   docker run --rm -v "$PWD:/work" lading scan /work/image.tar
# `build` builds and packs the engine and the CLI as .ci/pack-check does; `build-runtime` installs the packed
# tarballs with production dependencies only; the last stage holds that install and runs it as the unprivileged
# `node` user. Base images are pinned to an exact Node release. cli/test/dockerfile.test.ts checks this file's
# structure; CI builds no image (it has no container daemon or daemonless builder).
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY engine/package.json engine/
COPY cli/package.json cli/
# --ignore-scripts: the workspace's `prepare` would build before the sources are here, and nothing in this stage
# loads the SQLite addon (tsc and esbuild only read it); the build is the next step.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY engine/ engine/
COPY cli/ cli/
RUN npm run build \
  && mkdir /packs \
  && npm pack --workspace engine --workspace cli --pack-destination /packs

# Installs the packed tarballs as a user would; better-sqlite3 compiles its addon here when no prebuilt binary can
# be fetched, so this stage has the build tools and the runtime stage does not.
FROM node:20.20.2-bookworm-slim AS build-runtime
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/lading
COPY --from=build /packs/ /packs/
RUN printf '{ "name": "lading-image", "private": true }\n' >package.json \
  && npm install --omit=dev --no-audit --no-fund /packs/*.tgz \
  && npm cache clean --force

# The runtime image: Node, the installed CLI and its production dependencies; no compilers, no npm cache.
FROM node:20.20.2-bookworm-slim
COPY --from=build-runtime /opt/lading/ /opt/lading/
ENV PATH=/opt/lading/node_modules/.bin:$PATH \
  NODE_ENV=production
# The node image's unprivileged user (uid 1000): its home keeps the vulnerability data and the result cache.
USER node
WORKDIR /home/node
ENTRYPOINT ["lading"]
CMD ["--help"]
