import { bundleCommand } from './bundle/command';
import { callCommand } from './call/command';
import type { Command } from './command';

/** Every `loopp` command, in the order `loopp --help` lists them. */
export const COMMANDS: readonly Command[] = [callCommand, bundleCommand];
