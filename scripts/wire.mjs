/**
 * Generate src/wire.ts, the TypeScript types of the mlvc REST API, from
 * mlvc_server/openapi.yaml with openapi-typescript, so that the server, its
 * description and the frontend cannot drift apart.
 *
 *   node scripts/wire.mjs           write src/wire.ts
 *   node scripts/wire.mjs --check   exit 1 when src/wire.ts differs from what the spec gives
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import openapiTS, { astToString } from 'openapi-typescript';
import * as prettier from 'prettier';

const SPEC = new URL('../mlvc_server/openapi.yaml', import.meta.url);
const OUT = fileURLToPath(new URL('../src/wire.ts', import.meta.url));

const HEADER = `/**
 * Wire types of the mlvc REST API, generated from mlvc_server/openapi.yaml by
 * openapi-typescript. Do not edit: change the spec and run \`jlpm gen:wire\`.
 */
/* eslint-disable */
`;

/**
 * The text src/wire.ts must hold.
 */
async function generate() {
  const ast = await openapiTS(SPEC, {
    // `type: object` without properties is any object, not an empty one.
    emptyObjectsUnknown: true,
    // `[step, value]` pairs and `[tag, text]` lines are tuples.
    arrayLength: true,
    // Silence redocly's lint output; a spec it cannot read still throws.
    silent: true
  });
  const options = (await prettier.resolveConfig(OUT)) ?? {};
  return prettier.format(HEADER + astToString(ast), {
    ...options,
    filepath: OUT
  });
}

const wanted = await generate();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = await readFile(OUT, 'utf8');
  } catch {
    // Missing: stale.
  }
  if (current !== wanted) {
    console.error(
      'src/wire.ts is not what mlvc_server/openapi.yaml gives: run `jlpm gen:wire` and commit it.'
    );
    process.exit(1);
  }
  console.log('src/wire.ts matches mlvc_server/openapi.yaml');
} else {
  await writeFile(OUT, wanted);
  console.log('wrote src/wire.ts');
}
