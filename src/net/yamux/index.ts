/** yamux (hashicorp/yamux v0.1.x wire protocol) for go-plugin's multiplexed broker. */
export { createYamuxSession, YamuxSession, type YamuxSessionOptions, type YamuxSessionStats } from './session';
export { YamuxStream } from './stream';
export { YamuxError, isYamuxError, type YamuxErrorKind } from './errors';
export {
  decodeHeader,
  describeHeader,
  encodeHeader,
  Flag,
  FrameParser,
  FrameType,
  GoAwayCode,
  HEADER_SIZE,
  INITIAL_STREAM_WINDOW,
  type FrameHandler,
  type FrameHeader,
} from './frame';
