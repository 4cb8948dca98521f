import type { AuthorizeCheck } from '../request.js';

/** RFC 6749 §4.1.1: `client_id` names a registered client or a Client ID Metadata Document. Errors are pages. */
export const checkClient: AuthorizeCheck = async (req) => {
  const clientId = req.params.get('client_id');
  if (!clientId) throw req.refuse('invalid_request', 'The client_id parameter is missing');
  const client = await req.core.clients.load(clientId);
  if (!client) throw req.refuse('invalid_client', 'This client is not registered (it may have been deleted)');
  req.client = client;
};
