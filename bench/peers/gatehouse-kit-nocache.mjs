// W6 with the kit's verified-token cache off: every request verifies the ES256 signature
// (see gatehouse-kit.mjs). Runs beside it in the same invocation on its own ports.
import { kitTarget } from './gatehouse-kit.mjs';

export default kitTarget({ cache: 0, port: 4110, gatehousePort: 4120 });
