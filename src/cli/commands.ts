import { bundleCommand } from './bundle/command';
import { callCommand } from './call/command';
import { checkCommand } from './check/command';
import type { Command } from './command';

/** Every `loopp` command, in the order `loopp --help` lists them. */
export const COMMANDS: readonly Command[] = [checkCommand, callCommand, bundleCommand];
