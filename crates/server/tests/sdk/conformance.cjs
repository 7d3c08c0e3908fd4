// Conformance: the official Azure SDK for JavaScript (@azure/arm-rediscache,
// @azure/identity) against georep-server, unpatched: DefaultAzureCredential
// finds the server's managed identity (IDENTITY_ENDPOINT, IDENTITY_HEADER)
// and Node trusts its CA through NODE_EXTRA_CA_CERTS, all from azure-env.sh.
// Run by tests/api/sdk.rs (NODE_PATH: the set-up's .tools/node/node_modules);
// exits non-zero on the first failure.

const { DefaultAzureCredential } = require("@azure/identity");
const { RedisManagementClient } = require("@azure/arm-rediscache");

const env = process.env;

function check(condition, what) {
  if (!condition) {
    console.log(`FAIL ${what}`);
    process.exit(1);
  }
  console.log(`ok   ${what}`);
}

async function main() {
  check(env.GEOREP_URL.startsWith("https://"), `the SDK talks to the server over HTTPS: ${env.GEOREP_URL}`);
  const client = new RedisManagementClient(new DefaultAzureCredential(), env.GEOREP_SUBSCRIPTION, {
    endpoint: env.GEOREP_URL,
  });
  const names = [];
  for await (const cache of client.redis.listBySubscription()) {
    names.push(cache.name);
  }
  check(names.includes(env.GEOREP_PRIMARY) && names.includes(env.GEOREP_SECONDARY), `listBySubscription: ${names}`);
  const keys = await client.redis.listKeys(env.GEOREP_RESOURCE_GROUP, env.GEOREP_PRIMARY);
  check(Boolean(keys.primaryKey) && keys.primaryKey !== keys.secondaryKey, "listKeys returns two keys");
  const link = await client.linkedServer.beginCreateAndWait(env.GEOREP_RESOURCE_GROUP, env.GEOREP_PRIMARY, env.GEOREP_SECONDARY, {
    linkedRedisCacheId: `/subscriptions/${env.GEOREP_SUBSCRIPTION}/resourceGroups/${env.GEOREP_RESOURCE_GROUP}/providers/Microsoft.Cache/Redis/${env.GEOREP_SECONDARY}`,
    linkedRedisCacheLocation: "northeurope",
    serverRole: "Secondary",
  });
  check(link.provisioningState === "Succeeded" && link.name === env.GEOREP_SECONDARY, `beginCreateAndWait links: ${link.provisioningState}`);
  await client.linkedServer.beginDeleteAndWait(env.GEOREP_RESOURCE_GROUP, env.GEOREP_PRIMARY, env.GEOREP_SECONDARY);
  const left = [];
  for await (const l of client.linkedServer.list(env.GEOREP_RESOURCE_GROUP, env.GEOREP_PRIMARY)) {
    left.push(l.name);
  }
  check(left.length === 0, "beginDeleteAndWait unlinks");
  console.log("JS SDK conformance: all checks passed");
}

main().catch((error) => {
  console.log(`FAIL ${error.stack || error}`);
  process.exit(1);
});
