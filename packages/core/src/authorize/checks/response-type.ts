import { RESPONSE_TYPES } from '../../rules/response-type.js';
import type { AuthorizeCheck } from '../request.js';

/** RFC 6749 §3.1.1: `response_type` is required; only `code` is supported. */
export const checkResponseType: AuthorizeCheck = (req) => {
  const responseType = req.params.get('response_type');
  if (responseType === undefined) throw req.refuse('invalid_request', 'response_type is required');
  if (!RESPONSE_TYPES.includes(responseType))
    throw req.refuse('unsupported_response_type', 'Only response_type=code is supported');
};
