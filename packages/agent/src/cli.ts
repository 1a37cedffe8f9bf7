#!/usr/bin/env node
import { main } from "@nls/daemon";
import { runDaemon } from "./daemon.js";
import { buildProgram } from "./program.js";

await main(buildProgram(runDaemon));
