import './adapters/heap.ts';
import { run } from './main.ts';

await run();
