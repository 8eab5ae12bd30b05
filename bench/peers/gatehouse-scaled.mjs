// Gatehouse on the harness's PostgreSQL + Redis (services.sh start all), as its own target so that
// it runs beside the embedded one (gatehouse.mjs) in the same invocation.
import { gatehouseTarget } from './gatehouse.mjs';

export default gatehouseTarget({ scaled: true });
