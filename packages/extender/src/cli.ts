#!/usr/bin/env node
import { main } from "@nls/daemon";
import { runExtender } from "./daemon.js";
import { buildProgram } from "./program.js";

await main(buildProgram(runExtender));
