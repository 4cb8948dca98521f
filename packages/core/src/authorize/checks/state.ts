import type { AuthorizeCheck } from '../request.js';

const MAX_STATE = 2048;

/** RFC 6749 §4.1.1: `state` is echoed unchanged; an over-long one is refused and never echoed back. */
export const checkState: AuthorizeCheck = (req) => {
  const state = req.params.get('state');
  if (state !== undefined && state.length > MAX_STATE)
    throw req.refuse('invalid_request', 'state is too long');
  req.state = state;
};
