#!/usr/bin/env node
import { main } from "@nls/daemon";
import { buildSimulateCommand } from "./program.js";

await main(buildSimulateCommand());
