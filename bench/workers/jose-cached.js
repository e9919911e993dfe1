// The second peer configuration: bench/workers/jose.js with a cache of 4,096 verified tokens of
// its own (the size of entra-gate's), which is what a team adds once the same token keeps coming.
import { peer } from "./jose.js";

export default peer({ cacheSize: 4096 });
