// typescript-eslint, parsing with TypeScript 5. The project's compiler is TypeScript 7 (the
// native one: no JavaScript API), and typescript-eslint needs TypeScript's JavaScript API
// (typescript >=4.8.4 <6.1). This package depends on TypeScript 5 itself, so npm installs it and
// typescript-eslint in this package's own node_modules, where they find each other. One helper
// of theirs, ts-api-utils, accepts any TypeScript and is hoisted beside the project's TypeScript 7;
// its `require('typescript')` is pointed at this package's TypeScript 5 before typescript-eslint
// loads. Nothing else in the lint process asks for TypeScript.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const typescript5 = require.resolve('typescript');
const estree = require.resolve('@typescript-eslint/typescript-estree');
const apiUtils = require.resolve('ts-api-utils', { paths: [estree] });
const seenByApiUtils = createRequire(apiUtils).resolve('typescript');
if (seenByApiUtils !== typescript5) {
  require(typescript5);
  require.cache[seenByApiUtils] = require.cache[typescript5];
}

const { default: tseslint } = await import('typescript-eslint');
export default tseslint;
