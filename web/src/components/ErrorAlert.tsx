/** A refusal or failure, announced at once to screen readers; nothing when `message` is empty. */
export function ErrorAlert(props: { message: string | null }) {
  if (!props.message) return null;
  return (
    <p class="error" role="alert">
      {props.message}
    </p>
  );
}
